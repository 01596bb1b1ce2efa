import { types } from 'pg';
import { isRegionCode, isSexCode, isValidCreditCode, isValidResidentId } from '@gdx/codes';
import type { ItemType, ItemView } from '@gdx/contracts';
import { isCreditCodeItem, isIdentityItem } from './resource-model';

/**
 * The one value model of an item type: how a value arrives (JSON or CSV text, in a
 * batch or a query), how two values of a range type order, and how a stored value
 * leaves (PostgreSQL text → JSON). Batches and queries both use it, so a value a
 * provider may submit is exactly a value a consumer may ask for.
 */

/** A value ready to bind: text for everything PostgreSQL parses itself (dates, numbers), booleans as booleans. */
export type BoundValue = string | boolean | null;

export type Parsed = { ok: true; value: BoundValue } | { ok: false; reason: string };

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATETIME = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-](\d{2})(:?(\d{2}))?)$/;
/** 0001-01-01T00:00:00Z: an earlier instant (year 0001 with an eastern offset) is a year PostgreSQL writes as BC and nobody means. */
const FIRST_INSTANT = -62_135_596_800_000;
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
 * One value of an item, checked and converted to what its column binds. Empty and
 * null values are absent (null); callers decide whether that is allowed. The reason
 * completes a sentence starting with the item (a batch's row error says it as is).
 */
export function parseItemValue(item: ItemView, raw: unknown): Parsed {
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
    case 'datetime': {
      // Its day is checked on its own: Date.parse rolls 2025-02-30T… over into March, PostgreSQL refuses it; so is year 0000.
      const m = typeof raw === 'string' ? DATETIME.exec(raw) : null;
      const at = m ? Date.parse(m[0]) : NaN;
      // Offsets as real time zones have them (UTC−12 … UTC+14): PostgreSQL refuses beyond ±15:59, JavaScript does not.
      const offsetOk = !m?.[4] || (Number(m[4]) <= 14 && Number(m[6] ?? 0) < 60);
      return m && isCalendarDate(m[0].slice(0, 10)) && offsetOk && !Number.isNaN(at) && at >= FIRST_INSTANT ? ok(m[0]) : bad('must be an ISO 8601 date and time with a time zone');
    }
    case 'integer':
      if (typeof raw === 'number') return Number.isSafeInteger(raw) ? ok(String(raw)) : bad('must be an integer');
      return typeof raw === 'string' && INTEGER.test(raw) ? ok(raw) : bad('must be an integer');
    case 'decimal': {
      const text = typeof raw === 'number' && Number.isFinite(raw) ? String(raw) : raw;
      if (typeof text !== 'string' || !(DECIMAL.test(text) || (typeof raw === 'number' && /e/i.test(text)))) return bad('must be a decimal number');
      // More digits than the declared scale would be rounded away when served: refused rather than silently changed.
      if (item.scale !== undefined && scaled(text).scale > item.scale) return bad(`has more than ${item.scale} digits after the decimal point`);
      return ok(text);
    }
    case 'boolean':
      if (typeof raw === 'boolean') return ok(raw);
      if (raw === 'true' || raw === '1') return ok(true);
      if (raw === 'false' || raw === '0') return ok(false);
      return bad('must be true or false');
  }
}

/** The types with an order a range (gte/lte, a row filter's between) means something for. */
export type RangeType = Extract<ItemType, 'date' | 'datetime' | 'integer' | 'decimal'>;

export function isRangeType(type: ItemType): type is RangeType {
  return type === 'date' || type === 'datetime' || type === 'integer' || type === 'decimal';
}

/** A decimal's text (`-12.50`, or a JS number's `1.5e-7`) as digits × 10^-scale, so any two compare exactly. */
function scaled(s: string): { digits: bigint; scale: number } {
  const m = /^(-?)(\d*)(?:\.(\d*))?(?:e([+-]?\d+))?$/i.exec(s);
  if (!m) throw new RangeError(`${s} is not a parsed decimal`);
  const frac = m[3] ?? '';
  const digits = BigInt(`${m[1]}${m[2] || '0'}${frac}`);
  return { digits, scale: frac.length - Number(m[4] ?? 0) };
}

/** Milliseconds since the epoch, then the microseconds a JS date drops. */
function instant(s: string): [number, number] {
  const frac = /:\d{2}\.(\d{4,6})/.exec(s)?.[1];
  return [Date.parse(s), frac ? Number(frac.slice(3).padEnd(3, '0')) : 0];
}

const sign = (n: number | bigint) => (n > 0 ? 1 : n < 0 ? -1 : 0);

/**
 * How two parsed values of a range type order (negative, zero, positive), exactly:
 * integers and decimals beyond a double's precision, timestamps to the microsecond
 * and in any time zone, as PostgreSQL orders them.
 */
export function compareItemValues(type: RangeType, a: string, b: string): number {
  switch (type) {
    case 'date':
      return a < b ? -1 : a > b ? 1 : 0; // YYYY-MM-DD orders as text
    case 'datetime': {
      const [am, au] = instant(a);
      const [bm, bu] = instant(b);
      return sign(am - bm) || sign(au - bu);
    }
    case 'integer':
      return sign(BigInt(a) - BigInt(b));
    case 'decimal': {
      const x = scaled(a);
      const y = scaled(b);
      const scale = Math.max(x.scale, y.scale);
      return sign(x.digits * 10n ** BigInt(scale - x.scale) - y.digits * 10n ** BigInt(scale - y.scale));
    }
  }
}

/**
 * A stored value as the JSON answer carries it, from PostgreSQL's text form: dates
 * as written, timestamps in ISO form, integers as numbers where exact (beyond 2^53
 * they stay text), decimals as text (exact, with their scale: see formatDecimal),
 * booleans as booleans.
 */
export function formatItemValue(type: ItemType, text: string): unknown {
  switch (type) {
    case 'string':
    case 'code':
    case 'date':
      return text;
    case 'datetime':
      return new Date(text).toISOString();
    case 'integer':
      return Number.isSafeInteger(Number(text)) ? Number(text) : text;
    case 'decimal':
      return text;
    case 'boolean':
      return text === 't' || text === 'true';
  }
}

/**
 * A decimal's text with exactly `scale` digits after the point (`999` → `999.00` for
 * scale 2). Values stored with more digits (before the scale was declared) are rounded
 * half away from zero.
 */
export function formatDecimal(text: string, scale: number): string {
  const x = scaled(text);
  let digits = x.digits;
  if (x.scale < scale) digits *= 10n ** BigInt(scale - x.scale);
  else if (x.scale > scale) {
    const unit = 10n ** BigInt(x.scale - scale);
    const negative = digits < 0n;
    const abs = negative ? -digits : digits;
    const rounded = (abs + unit / 2n) / unit;
    digits = negative ? -rounded : rounded;
  }
  const negative = digits < 0n;
  const abs = (negative ? -digits : digits).toString().padStart(scale + 1, '0');
  const whole = abs.slice(0, abs.length - scale);
  const frac = abs.slice(abs.length - scale);
  return `${negative ? '-' : ''}${whole}${scale ? `.${frac}` : ''}`;
}

/** How a decimal item's stored text leaves: with its declared scale, else as stored. */
export function decimalPresenter(item: ItemView): ((v: unknown) => unknown) | null {
  if (item.type !== 'decimal' || item.scale === undefined) return null;
  const scale = item.scale;
  return (v) => (typeof v === 'string' ? formatDecimal(v, scale) : v);
}

/** The type oid of each item type's column (resource-model's sqlTypeOf) whose text needs formatting; text columns stay as they are. */
const COLUMN_OIDS: [ItemType, number][] = [
  ['date', 1082],
  ['datetime', 1184],
  ['integer', 20],
  ['decimal', 1700],
  ['boolean', 16],
];
const FORMATTERS = new Map(COLUMN_OIDS.map(([type, oid]) => [oid, (text: string) => formatItemValue(type, text)]));

/** pg type parsers for query results: item columns come back formatted as above. */
export const RESULT_TYPES = { getTypeParser: (oid: number, format?: 'text' | 'binary') => FORMATTERS.get(oid) ?? (types.getTypeParser(oid, format ?? 'text') as (text: string) => unknown) };
