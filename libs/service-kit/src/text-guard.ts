import type { FastifyError, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { ValidationError } from '@gdx/errors';

/** NUL, or a UTF-16 surrogate without its partner: text PostgreSQL cannot store and UTF-8 cannot encode. */
// eslint-disable-next-line no-control-regex -- NUL is exactly what this looks for
const BAD_TEXT = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export function isBadText(s: string): boolean {
  return BAD_TEXT.test(s);
}

/** Deeper than any schema of ours nests; a body nested further is refused rather than walked. */
const MAX_DEPTH = 64;

/**
 * The path (`items.1`, `name`, `` for the value itself) of the first string or key in
 * `value` that holds NUL or a lone surrogate; undefined when all text is well formed.
 */
export function findBadText(value: unknown, depth = 0): string[] | undefined {
  if (typeof value === 'string') return isBadText(value) ? [] : undefined;
  if (value === null || typeof value !== 'object') return undefined;
  if (depth > MAX_DEPTH) return [];
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findBadText(value[i], depth + 1);
      if (found) return [String(i), ...found];
    }
    return undefined;
  }
  // A body passed through unparsed (a stream, bytes) is not walked; parsed JSON and the
  // query string's and the router's parameter objects (whose prototypes vary) are.
  if (ArrayBuffer.isView(value) || typeof (value as { pipe?: unknown }).pipe === 'function') return undefined;
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    if (isBadText(key)) return [key.replace(BAD_TEXT, '\uFFFD')];
    const found = findBadText(v, depth + 1);
    if (found) return [key, ...found];
  }
  return undefined;
}

const DETAIL = 'holds a NUL character or an unpaired UTF-16 surrogate; text must be well-formed Unicode without NUL.';

/**
 * preValidation hook of every service: NUL or a lone surrogate anywhere in the body,
 * the query string or the path parameters is a 400 INVALID_TEXT naming the input
 * (`body.name`, `querystring.q`, `params.code`). A route that takes its validation
 * errors itself (attachValidation) gets this one as its validation error, so it can
 * answer (and record) the refusal its own way.
 */
export function rejectBadText(request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction): void {
  const bad = badInput(request);
  if (!bad) return done();
  const { context, path, field } = bad;
  const detail = path ? `${field} ${DETAIL}` : `${field} is not valid percent-encoded UTF-8.`;
  if (!request.routeOptions.attachValidation) return done(new ValidationError(detail, { field }, 'INVALID_TEXT'));
  const error = new Error(detail) as FastifyError & { validation: unknown[]; validationContext: string };
  error.code = 'INVALID_TEXT';
  error.statusCode = 400;
  error.validation = [{ instancePath: path?.length ? `/${path.join('/')}` : '', message: DETAIL, keyword: 'wellFormedText', params: {}, schemaPath: '' }];
  error.validationContext = context;
  request.validationError = error;
  done();
}

function badInput(request: FastifyRequest): { context: 'params' | 'querystring' | 'body'; path?: string[]; field: string } | undefined {
  // A query string that does not percent-decode to UTF-8 (`%zz`, `%ED%A0%80`: an encoded lone
  // surrogate) is the same fault; the parser would pass it on undecoded, and the proxy fail on it.
  const q = request.url.indexOf('?');
  if (q >= 0 && !decodes(request.url.slice(q + 1))) return { context: 'querystring', field: 'querystring' };
  for (const context of ['params', 'querystring', 'body'] as const) {
    const path = findBadText(request[context === 'querystring' ? 'query' : context]);
    if (!path) continue;
    // A proxied route's wildcard is the rest of the path, and is called that.
    const field = context === 'params' && path[0] === '*' ? ['path', ...path.slice(1)].join('.') : [context, ...path].join('.');
    return { context, path, field };
  }
  return undefined;
}

function decodes(text: string): boolean {
  if (!text.includes('%')) return true;
  try {
    decodeURIComponent(text);
    return true;
  } catch {
    return false;
  }
}
