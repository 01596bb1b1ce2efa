import { decodeCursor, encodeCursor } from '@gdx/service-kit';

/**
 * A position in a resource's pull order (change sequence, then row id). A cursor names the
 * resource it belongs to, and rows by their row id, a number that says nothing about the row
 * (never its key, which may be a personal identity number the recipient only sees masked).
 * Without a row id it means "everything up to and including this sequence".
 */
export interface PullPosition {
  seq: string;
  rowId: string | null;
}

const DIGITS = /^\d{1,18}$/;

export function encodePullCursor(code: string, p: PullPosition): string {
  return encodeCursor(p.rowId === null ? [code, p.seq] : [code, p.seq, p.rowId]);
}

export function decodePullCursor(code: string, raw: string): PullPosition {
  return decodeCursor(
    raw,
    (parts) => {
      if (parts[0] !== code || (parts.length !== 2 && parts.length !== 3)) return undefined;
      const [, seq, rowId] = parts;
      if (typeof seq !== 'string' || !DIGITS.test(seq)) return undefined;
      if (parts.length === 3 && (typeof rowId !== 'string' || !DIGITS.test(rowId))) return undefined;
      return { seq, rowId: parts.length === 3 ? (rowId as string) : null };
    },
    'querystring.since',
    'The cursor is not one a pull of this resource gave out; start a full pull without it.',
  );
}
