import { ValidationError } from '@gdx/errors';
import { referenceData } from '@gdx/codes';
import type { ItemMask, ServiceMode } from '@gdx/contracts';
import type { OpenAttribute, ResourceItem, Sharing, SharingType } from '../entities/resource.entity';
import type { CreateResource } from './resource.schemas';

/** What the rules leave of an input: every field checked, defaults applied, ready to store. */
export interface ResourceFields {
  code: string;
  classification: string[];
  classCode: string;
  baseDatabase: string | null;
  name: string;
  summary: string;
  providerUnitId: string;
  format: string;
  items: ResourceItem[];
  sharingType: SharingType;
  sharing: Sharing;
  methods: ServiceMode[];
  open: OpenAttribute;
  updateCycle: string;
  relatedCodes: string[];
}

/** unconditional < conditional < none: an item may only move right of its resource. */
const STRICTNESS: Record<SharingType, number> = { unconditional: 0, conditional: 1, none: 2 };
const CLASSIFICATION_DIGITS = [1, 2, 3, 3];
const CODE_SHAPE = /^(\d{6}|\d{9})\/(\d{4})$/;

function fail(code: string, field: string, detail: string): never {
  throw new ValidationError(detail, { field }, code);
}

const filled = (s: string | undefined): s is string => typeof s === 'string' && s.trim().length > 0;

/** Standard data elements whose default mask keeps part of the value for a human to recognise the record. */
export const IDENTITY_NUMBER_ELEMENT = '居民身份证号码';
export const NAME_ELEMENT = '姓名';

/**
 * The mask an item gets when it declares none (§6: decided here, once, from what the item
 * declares — its standard data element — and shown in the view; nobody downstream guesses):
 * an identity number keeps its region (6) and last 4 characters, a name its first
 * character, anything else is hidden whole.
 */
export function defaultMaskOf(element: string | undefined): ItemMask {
  if (element === IDENTITY_NUMBER_ELEMENT) return { keepStart: 6, keepEnd: 4 };
  if (element === NAME_ELEMENT) return { keepStart: 1, keepEnd: 0 };
  return 'full';
}

/**
 * The metadata rules of a resource that need no database: code shape and its match with
 * the classification, item keys, query keys, data elements and sharing. The first broken
 * rule is reported with the field it concerns; `body` is the request body's name.
 */
export function checkResource(input: CreateResource, body = 'body'): ResourceFields {
  const classification = checkClassification(input.classification, body);
  const code = input.code;
  const shape = CODE_SHAPE.exec(code);
  if (!shape) fail('INVALID_CODE', `${body}.code`, 'code must be the classification prefix, a slash and a four-digit sequence, e.g. 101001/0001.');
  if (shape[1] !== classification.join('')) fail('CODE_MISMATCH', `${body}.code`, `code must begin with the classification ${classification.join('')}, not ${shape[1]}.`);

  const items = checkItems(input, body);
  const sharing = checkSharing(input, items, body);
  const relatedCodes = [...(input.relatedCodes ?? [])];
  relatedCodes.forEach((c, i) => {
    if (c === code) fail('INVALID_RELATED_CODE', `${body}.relatedCodes[${i}]`, 'A resource cannot be related to itself.');
  });

  return {
    code,
    classification,
    classCode: classification[0],
    baseDatabase: classification[0] === '1' ? `1${classification[1]}` : null,
    name: input.name.trim(),
    summary: input.summary.trim(),
    providerUnitId: input.providerUnitId,
    format: input.format,
    items,
    sharingType: sharing.type,
    sharing,
    methods: [...input.methods],
    open: input.open ? { open: input.open.open, ...(filled(input.open.conditions) ? { conditions: input.open.conditions.trim() } : {}) } : { open: false },
    updateCycle: input.updateCycle,
    relatedCodes,
  };
}

function checkClassification(parts: string[], body: string): string[] {
  parts.forEach((p, i) => {
    if (p.length !== CLASSIFICATION_DIGITS[i]) fail('INVALID_CLASSIFICATION', `${body}.classification[${i}]`, `${['类', '项', '目', '细目'][i]} has ${CLASSIFICATION_DIGITS[i]} digit(s).`);
  });
  if (!['1', '2', '3'].includes(parts[0])) fail('INVALID_CLASSIFICATION', `${body}.classification[0]`, '类 is 1 (base), 2 (thematic) or 3 (departmental).');
  // The five base databases are the only class-1 resources (design §4).
  if (parts[0] === '1' && !(`1${parts[1]}` in referenceData().baseDatabases)) {
    fail(
      'INVALID_CLASSIFICATION',
      `${body}.classification[1]`,
      `Class 1 resources belong to a base database: 项 is one of ${Object.keys(referenceData().baseDatabases)
        .map((k) => k.slice(1))
        .join(', ')}.`,
    );
  }
  return [...parts];
}

function checkItems(input: CreateResource, body: string): ResourceItem[] {
  const seen = new Map<string, number>();
  const claims = new Map<string, number>();
  const queryKeys = input.queryKeys ? new Set(input.queryKeys) : undefined;
  const items = input.items.map((item, i) => {
    const at = `${body}.items[${i}]`;
    if (seen.has(item.key)) fail('DUPLICATE_ITEM_KEY', `${at}.key`, `Item key ${item.key} is already used by items[${seen.get(item.key)}].`);
    seen.set(item.key, i);
    if (item.type === 'code' && !filled(item.codeTable)) fail('CODE_TABLE_REQUIRED', `${at}.codeTable`, 'An item of type code names its code table (e.g. GB/T 2260).');
    if (item.authoritative && !filled(item.element)) fail('ELEMENT_REQUIRED', `${at}.element`, 'Only an item that names a standard data element can be its authoritative source.');
    if (item.element && item.authoritative) {
      if (claims.has(item.element)) fail('ELEMENT_CLAIMED', `${at}.element`, `items[${claims.get(item.element)}] already claims ${item.element} for this resource.`);
      claims.set(item.element, i);
    }
    if (item.sharing && STRICTNESS[item.sharing] < STRICTNESS[input.sharing.type]) {
      fail('ITEM_SHARING_LOOSER', `${at}.sharing`, `An item may only be shared more strictly than its resource (${input.sharing.type}), not ${item.sharing}.`);
    }
    const sensitivity = item.sensitivity ?? 'internal';
    const masked = sensitivity === 'personal' || sensitivity === 'secret';
    if (item.mask !== undefined && !masked) fail('MASK_NOT_APPLICABLE', `${at}.mask`, `A ${sensitivity} item leaves in clear and has no mask; only personal and secret items declare one.`);
    if (item.scale !== undefined && item.type !== 'decimal') fail('SCALE_NOT_APPLICABLE', `${at}.scale`, `Only a decimal item has a scale, not a ${item.type} item.`);
    const out: ResourceItem = {
      key: item.key,
      label: item.label.trim(),
      type: item.type,
      required: item.required ?? false,
      queryKey: queryKeys ? queryKeys.has(item.key) : (item.queryKey ?? false),
      sensitivity,
    };
    if (item.length !== undefined) out.length = item.length;
    if (filled(item.element)) {
      out.element = item.element.trim();
      out.authoritative = item.authoritative ?? false;
    }
    if (filled(item.codeTable)) out.codeTable = item.codeTable.trim();
    if (item.sharing) out.sharing = item.sharing;
    if (masked) out.mask = item.mask ?? defaultMaskOf(out.element);
    if (item.scale !== undefined) out.scale = item.scale;
    return out;
  });
  input.queryKeys?.forEach((k, i) => {
    if (!seen.has(k)) fail('UNKNOWN_QUERY_KEY', `${body}.queryKeys[${i}]`, `Query key ${k} is not an item of this resource.`);
  });
  return items;
}

function checkSharing(input: CreateResource, items: ResourceItem[], body: string): Sharing {
  const { type, conditions, legalBasis } = input.sharing;
  const used = new Set<SharingType>([type, ...items.map((i) => i.sharing ?? type)]);
  // Sharing is the rule: any restriction, of the resource or of one item, must say why.
  if (used.has('conditional') && !filled(conditions))
    fail('CONDITIONS_REQUIRED', `${body}.sharing.conditions`, 'Conditional sharing states its conditions (of the resource or of its conditional items).');
  if (used.has('none') && !filled(legalBasis)) fail('LEGAL_BASIS_REQUIRED', `${body}.sharing.legalBasis`, 'Not sharing (不予共享) needs a legal basis (of the resource or of its unshared items).');
  return { type, ...(filled(conditions) ? { conditions: conditions.trim() } : {}), ...(filled(legalBasis) ? { legalBasis: legalBasis.trim() } : {}) };
}

/** The input form of a stored resource, for merging a partial update into it. */
export function inputOf(fields: ResourceFields): CreateResource {
  return {
    code: fields.code,
    classification: fields.classification,
    name: fields.name,
    summary: fields.summary,
    providerUnitId: fields.providerUnitId,
    format: fields.format,
    items: fields.items.map((i) => ({ ...i })),
    sharing: { ...fields.sharing },
    methods: fields.methods,
    open: fields.open,
    updateCycle: fields.updateCycle,
    relatedCodes: fields.relatedCodes,
  };
}
