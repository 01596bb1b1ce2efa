import { ValidationError } from '@gdx/errors';
import { findBadText } from './text-guard';

/**
 * Opaque page cursors: the keyset of the last row, as base64url JSON. Clients must
 * not build them; every service answers a cursor it did not give out the same way.
 */
export function encodeCursor(parts: unknown[]): string {
  return Buffer.from(JSON.stringify(parts)).toString('base64url');
}

export function invalidCursor(field = 'querystring.cursor', detail = 'The cursor is not one this service gave out; start again without it.'): ValidationError {
  return new ValidationError(detail, { field }, 'INVALID_CURSOR');
}

/**
 * Decodes a cursor and lets `accept` check its parts (their number and each one's type
 * and form: a cursor is client input and reaches SQL); anything else, text with NUL or a
 * lone surrogate included, is 400 INVALID_CURSOR.
 */
export function decodeCursor<T>(raw: string, accept: (parts: unknown[]) => T | undefined, field?: string, detail?: string): T {
  let parts: unknown;
  try {
    parts = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
  } catch {
    parts = undefined;
  }
  const value = Array.isArray(parts) && !findBadText(parts) ? accept(parts) : undefined;
  if (value === undefined) throw invalidCursor(field, detail);
  return value;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A cursor part that PostgreSQL will take as a uuid. */
export function isUuidText(v: unknown): v is string {
  return typeof v === 'string' && UUID.test(v);
}

/** `2026-12-02 03:04:53.123+00` (timestamptz::text) or `2026-12-02T03:04:53.123Z` (toISOString). */
const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.\d{1,6})?(?:Z|[+-]\d{2}(?::?\d{2})?)$/;

/**
 * A cursor part that PostgreSQL will take as a timestamptz: the forms the services write,
 * a real calendar date (no 30 February) in years 1 to 9999, or `infinity`/`-infinity`.
 */
export function isTimestampText(v: unknown): v is string {
  if (v === 'infinity' || v === '-infinity') return true;
  if (typeof v !== 'string') return false;
  const m = TIMESTAMP.exec(v);
  if (!m) return false;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number);
  const d = new Date(Date.UTC(2000, month - 1, day));
  return year >= 1 && month >= 1 && month <= 12 && d.getUTCMonth() === month - 1 && d.getUTCDate() === day && isLeapSafe(year, month, day) && hour < 24 && minute < 60 && second < 60;
}

/** 2000 is a leap year, so 29 February passed the check above; only leap years keep it. */
function isLeapSafe(year: number, month: number, day: number): boolean {
  if (month !== 2 || day !== 29) return true;
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}
