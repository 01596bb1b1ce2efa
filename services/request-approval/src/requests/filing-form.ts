import { Type, type TSchema } from '@sinclair/typebox';
import { referenceData } from '@gdx/codes';
import { ValidationError } from '@gdx/errors';
import type { ShareRequest } from '../entities/share-request.entity';

/** What the record form is filled in from besides the request: the calling unit as the gateway's directory names it. */
export interface FilingContext {
  applicantUnitName: string;
}

/**
 * Fields of the record form (备案表) the request (or the caller's unit) already answers; the
 * form may repeat them but not contradict them. 使用单位 is the caller's own unit, never free text.
 */
const FROM_REQUEST: Record<string, (r: ShareRequest, c: FilingContext) => unknown> = {
  applicantUnit: (_r, c) => c.applicantUnitName,
  resourceCode: (r) => r.resourceCode,
  items: (r) => r.items,
  purpose: (r) => r.purpose,
  dutyBasis: (r) => r.dutyBasis,
  serviceMode: (r) => r.serviceMode,
  expectedVolume: (r) => r.expectedVolume,
  validFrom: (r) => r.validFrom.toISOString(),
  validTo: (r) => r.validTo.toISOString(),
};

function fieldSchema(key: string, label: string): TSchema {
  if (key === 'items') return Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { description: label, maxItems: 200 });
  if (key === 'expectedVolume') return Type.Integer({ minimum: 1, description: label });
  if (key === 'validFrom' || key === 'validTo') return Type.String({ format: 'date-time', description: label });
  return Type.String({ minLength: 1, maxLength: 2000, description: label });
}

/**
 * The form's schema follows the reference data, so a field added to the form there
 * is asked for here without a code change. Fields the request answers are optional.
 */
export function filingFormSchema() {
  const { title, fields } = referenceData().filingForm;
  const props: Record<string, TSchema> = {};
  for (const f of fields) props[f.key] = FROM_REQUEST[f.key] ? Type.Optional(fieldSchema(f.key, f.label)) : fieldSchema(f.key, f.label);
  return Type.Object(props, { additionalProperties: false, title, description: `${title}: fields the request already answers may be left out, and if given must agree with it.` });
}

function same(a: unknown, b: unknown, key: string): boolean {
  if (key === 'items') return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x) => b.includes(x));
  if (key === 'validFrom' || key === 'validTo') return typeof a === 'string' && Date.parse(a) === Date.parse(String(b));
  return a === b;
}

/** The form as it is kept: every field of the reference form, taken from the request where it answers it. */
export function completeFilingForm(request: ShareRequest, given: Record<string, unknown>, context: FilingContext): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const { key } of referenceData().filingForm.fields) {
    const derive = FROM_REQUEST[key];
    if (!derive) {
      const v = given[key];
      if (typeof v !== 'string' || !v.trim()) throw new ValidationError(`The record form needs ${key}.`, { field: `body.form.${key}` }, 'FILING_FIELD_REQUIRED');
      out[key] = v.trim();
      continue;
    }
    const expected = derive(request, context);
    if (given[key] !== undefined && !same(given[key], expected, key)) {
      const what = key === 'applicantUnit' ? `the calling unit (${String(expected)})` : 'the request';
      throw new ValidationError(`The record form says something else for ${key} than ${what} does.`, { field: `body.form.${key}` }, 'FILING_MISMATCH');
    }
    out[key] = expected;
  }
  return out;
}
