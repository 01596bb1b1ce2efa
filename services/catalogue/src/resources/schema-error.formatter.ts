import { ValidationError } from '@gdx/errors';

interface AjvError {
  instancePath?: string;
  keyword?: string;
  message?: string;
  params?: Record<string, unknown>;
}

/**
 * Names fields the way the catalogue's own rules do (`body.items[2].type`), so a client
 * sees one notation whether the schema or a rule refused its input.
 */
export function fieldPath(context: string, e: AjvError): string {
  let out = context;
  for (const raw of (e.instancePath ?? '').split('/').slice(1)) {
    const part = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    out += /^\d+$/.test(part) ? `[${part}]` : `.${part}`;
  }
  const named = e.params?.missingProperty ?? e.params?.additionalProperty;
  return typeof named === 'string' ? `${out}.${named}` : out;
}

function messageOf(e: AjvError): string {
  const allowed = e.params?.allowedValues;
  if (e.keyword === 'enum' && Array.isArray(allowed)) return `must be one of: ${allowed.join(', ')}`;
  if (e.keyword === 'additionalProperties') return 'is not a known field';
  return e.message ?? 'is invalid';
}

export function schemaErrorFormatter(errors: AjvError[], context: string): Error {
  const list = errors.map((e) => ({ field: fieldPath(context, e), message: messageOf(e) }));
  return new ValidationError(list.map((e) => `${e.field}: ${e.message}`).join('; '), { field: list[0]?.field, errors: list });
}
