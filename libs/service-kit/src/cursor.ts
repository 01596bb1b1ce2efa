import { ValidationError } from '@gdx/errors';

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

/** Decodes a cursor and lets `accept` check its parts; anything else is 400 INVALID_CURSOR. */
export function decodeCursor<T>(raw: string, accept: (parts: unknown[]) => T | undefined, field?: string, detail?: string): T {
  let parts: unknown;
  try {
    parts = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
  } catch {
    parts = undefined;
  }
  const value = Array.isArray(parts) ? accept(parts) : undefined;
  if (value === undefined) throw invalidCursor(field, detail);
  return value;
}
