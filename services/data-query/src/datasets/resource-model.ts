import type { ItemView, ResourceView } from '@gdx/contracts';

/**
 * What data-query makes of a catalogue resource (the contracts' ResourceView), and
 * the one place where catalogue text becomes SQL identifiers. Nothing from an event
 * reaches SQL unless it passed the patterns below; everything else is a bound
 * parameter.
 */
export const ROWS_SCHEMA = 'data_query_rows';
export const IDENTITY_ELEMENT = '居民身份证号码';
export const CREDIT_CODE_ELEMENT = '统一社会信用代码';

/** System columns start with an underscore; item columns never do, so the two cannot clash. */
export const SYS = { changeSeq: '_change_seq', updatedAt: '_updated_at', deletedAt: '_deleted_at', rowId: '_row_id' } as const;

const CODE = /^([A-Za-z0-9]{1,20})\/([A-Za-z0-9]{1,20})$/;
const ITEM_KEY = /^[A-Za-z][A-Za-z0-9]{0,47}$/;
const IDENT = /^_?[a-z][a-z0-9_]{0,61}$/;

export class ResourceModelError extends Error {}

/** `101001/0001` → `r_101001_0001`: derived only from a code that matched the pattern. */
export function tableNameOf(code: string): string {
  const m = CODE.exec(code);
  if (!m) throw new ResourceModelError(`resource code ${JSON.stringify(code)} is not of the form prefix/sequence`);
  return assertIdent(`r_${m[1].toLowerCase()}_${m[2].toLowerCase()}`);
}

export function isResourceCode(code: string): boolean {
  return CODE.test(code);
}

/** `birthDate` → `birth_date`. */
export function columnOf(key: string): string {
  if (!ITEM_KEY.test(key)) throw new ResourceModelError(`item key ${JSON.stringify(key)} is not a plain identifier`);
  return assertIdent(key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase());
}

export function assertIdent(name: string): string {
  if (!IDENT.test(name)) throw new ResourceModelError(`${JSON.stringify(name)} is not a safe SQL identifier`);
  return name;
}

/** Double-quoted identifier; only ever applied to names that passed assertIdent. */
export function q(name: string): string {
  return `"${assertIdent(name)}"`;
}

export function qualified(table: string): string {
  return `${q(ROWS_SCHEMA)}.${q(table)}`;
}

/** The column type of an item (the catalogue's type and length decide it). */
export function sqlTypeOf(item: ItemView): string {
  switch (item.type) {
    case 'string':
      return item.length ? `varchar(${item.length})` : 'text';
    case 'code':
      return 'text';
    case 'date':
      return 'date';
    case 'datetime':
      return 'timestamptz';
    case 'integer':
      return 'bigint';
    case 'decimal':
      return 'numeric';
    case 'boolean':
      return 'boolean';
  }
}

/** The array type used to bind a whole column of values in one parameter (unnest, = ANY). */
export function paramTypeOf(item: ItemView): string {
  return item.type === 'string' ? 'text' : sqlTypeOf(item);
}

export function isIdentityItem(item: ItemView): boolean {
  return item.element === IDENTITY_ELEMENT || item.key === 'idNumber';
}

export function isCreditCodeItem(item: ItemView): boolean {
  return item.element === CREDIT_CODE_ELEMENT;
}

/**
 * The key batches upsert and delete by: the first query key whose standard data
 * element is an identity element (居民身份证号码, 统一社会信用代码: one row per
 * person or entity), else the first query key, else the first required item.
 * A resource with none of these cannot take batches and is refused.
 */
export function upsertKeyOf(items: ItemView[]): string {
  const keys = items.filter((i) => i.queryKey);
  const chosen = keys.find((i) => i.element === IDENTITY_ELEMENT || i.element === CREDIT_CODE_ELEMENT) ?? keys[0] ?? items.find((i) => i.required);
  if (!chosen) throw new ResourceModelError('the resource declares no query key to identify rows by');
  return chosen.key;
}

/**
 * Checks what of an event's resource will become SQL identifiers or column types
 * beyond what the contracts' schema says (the consumer validated the shape): the
 * code and item keys as identifiers, no two items on one column, sane lengths.
 */
export function checkResource(view: ResourceView): void {
  tableNameOf(view.code);
  if (!view.items.length) throw new ResourceModelError('the resource has no items');
  const columns = new Set<string>();
  for (const item of view.items) {
    const col = columnOf(item.key);
    if (columns.has(col)) throw new ResourceModelError(`two items map to the column ${col}`);
    columns.add(col);
    if (item.length !== undefined && !(item.length > 0 && item.length <= 10_485_760)) throw new ResourceModelError(`item ${item.key} has a bad length`);
  }
}
