import { isRegionCode, isSexCode, isValidCreditCode, isValidResidentId } from '@gdx/codes';
import { isCreditCodeItem, isIdentityItem, type ResourceItem } from '../datasets/resource-model';

/** A value ready to bind: text for everything PostgreSQL parses itself (dates, numbers), booleans as booleans. */
export type BoundValue = string | boolean | null;

export type Parsed = { ok: true; value: BoundValue } | { ok: false; reason: string };

export interface RowError {
  /** 1-based ordinal of the record in the batch (blank lines and a CSV header are not records). */
  row: number;
  /** The item the reason is about, or null when it is about the whole record. */
  item: string | null;
  reason: string;
}

export interface ValidRow {
  op: 'upsert' | 'delete';
  key: string;
  /** Aligned with the dataset's items. */
  values: BoundValue[];
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATETIME = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}(:?\d{2})?)$/;
const INTEGER = /^-?\d{1,18}$/;
const DECIMAL = /^-?\d{1,30}(\.\d{1,20})?$/;
const ok = (value: BoundValue): Parsed => ({ ok: true, value });
const bad = (reason: string): Parsed => ({ ok: false, reason });

function isCalendarDate(s: string): boolean {
  const m = DATE.exec(s);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(y, mo - 1, d));
  return y >= 1 && date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d;
}

function charLength(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/**
 * One value of an item, checked and converted to what its column binds. Used for
 * submitted rows and for query conditions alike, so both accept the same values.
 * Empty and null values are absent (null); callers decide whether that is allowed.
 */
export function parseItemValue(item: ResourceItem, raw: unknown): Parsed {
  if (raw === null || raw === undefined || raw === '') return ok(null);
  switch (item.type) {
    case 'string':
    case 'code': {
      if (typeof raw !== 'string') return bad('must be text');
      if (raw.includes('\u0000')) return bad('contains a NUL character');
      if (item.length && raw.length > item.length && charLength(raw) > item.length) return bad(`is longer than ${item.length} characters`);
      if (isIdentityItem(item) && !isValidResidentId(raw)) return bad('is not a valid resident identity number (GB 11643: 18 characters, a real birth date and the right check character)');
      if (isCreditCodeItem(item) && !isValidCreditCode(raw)) return bad('is not a valid unified social credit code (GB 32100 check character)');
      if (item.codeTable === 'GB/T 2260' && !isRegionCode(raw)) return bad('is not a GB/T 2260 administrative region code');
      if (item.codeTable === 'GB/T 2261.1' && !isSexCode(raw)) return bad('is not a GB/T 2261.1 sex code (0, 1, 2 or 9)');
      return ok(raw);
    }
    case 'date':
      return typeof raw === 'string' && isCalendarDate(raw) ? ok(raw) : bad('must be a date YYYY-MM-DD');
    case 'datetime':
      return typeof raw === 'string' && DATETIME.test(raw) && !Number.isNaN(Date.parse(raw)) ? ok(raw) : bad('must be an ISO 8601 date and time with a time zone');
    case 'integer':
      if (typeof raw === 'number') return Number.isSafeInteger(raw) ? ok(String(raw)) : bad('must be an integer');
      return typeof raw === 'string' && INTEGER.test(raw) ? ok(raw) : bad('must be an integer');
    case 'decimal':
      if (typeof raw === 'number') return Number.isFinite(raw) ? ok(String(raw)) : bad('must be a decimal number');
      return typeof raw === 'string' && DECIMAL.test(raw) ? ok(raw) : bad('must be a decimal number');
    case 'boolean':
      if (typeof raw === 'boolean') return ok(raw);
      if (raw === 'true' || raw === '1') return ok(true);
      if (raw === 'false' || raw === '0') return ok(false);
      return bad('must be true or false');
  }
}

/**
 * Checks a submitted record against the resource's items: known items only,
 * required items present, every value of its type, length and code table, the
 * row key present. Rows are whole replacements: an optional item left out is
 * stored as null. A delete needs only the row key.
 */
export class RowValidator {
  private readonly index = new Map<string, number>();
  private readonly keyIndex: number;

  constructor(private readonly items: ResourceItem[], private readonly upsertKey: string) {
    items.forEach((item, i) => this.index.set(item.key, i));
    this.keyIndex = this.index.get(upsertKey) ?? -1;
    if (this.keyIndex < 0) throw new Error(`the row key ${upsertKey} is not an item`);
  }

  /** The row ready to write, or null after reporting each of its errors. */
  validate(record: unknown, row: number, report: (e: RowError) => void): ValidRow | null {
    if (!record || typeof record !== 'object' || Array.isArray(record)) {
      report({ row, item: null, reason: 'is not an object of item values' });
      return null;
    }
    const rec = record as Record<string, unknown>;
    let failed = false;
    const fail = (item: string | null, reason: string) => {
      failed = true;
      report({ row, item, reason });
    };
    const opRaw = rec.op;
    const op = opRaw === undefined || opRaw === null || opRaw === '' ? 'upsert' : opRaw;
    if (op !== 'upsert' && op !== 'delete') fail('op', 'must be upsert or delete');
    const values: BoundValue[] = new Array(this.items.length).fill(null);
    for (const k of Object.keys(rec)) {
      if (k === 'op') continue;
      const i = this.index.get(k);
      if (i === undefined) {
        fail(k, 'is not an item of this resource');
        continue;
      }
      // A delete carries the key only; other values of a delete are not data to store.
      if (op === 'delete' && i !== this.keyIndex) continue;
      const parsed = parseItemValue(this.items[i], rec[k]);
      if (parsed.ok) values[i] = parsed.value;
      else fail(k, parsed.reason);
    }
    if (values[this.keyIndex] === null && !rec[this.upsertKey]) fail(this.upsertKey, 'is the row key and is required');
    if (op === 'upsert') {
      this.items.forEach((item, i) => {
        if (item.required && i !== this.keyIndex && values[i] === null && (rec[item.key] === undefined || rec[item.key] === null || rec[item.key] === '')) fail(item.key, 'is required');
      });
    }
    if (failed) return null;
    return { op: op as ValidRow['op'], key: String(values[this.keyIndex]), values };
  }
}
