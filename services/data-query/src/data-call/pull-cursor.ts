import { decodeCursor, encodeCursor } from '@gdx/service-kit';

/**
 * A position in a pull. A cursor names the resource it belongs to and never a row's key (which
 * may be a personal identity number the recipient only sees masked).
 *
 * - `{ seq }`: everything up to and including this change sequence; an incremental pull from
 *   it brings what changed after.
 * - `{ seq, rowId }`: inside an incremental pull, which reads in (change sequence, row id)
 *   order; the row id is an opaque number.
 * - `{ seq, scan }`: inside a full pull of everything up to `seq`, which reads the table in
 *   physical order (block, tuple) — as fast as PostgreSQL reads a table — and skips rows
 *   changed after `seq` (the incremental pull from `seq` brings them). Physical positions hold
 *   only as long as the table is not rewritten, so the cursor carries the table's file node and
 *   is refused once it changed.
 */
export interface PullPosition {
  seq: string;
  rowId: string | null;
  scan?: ScanPosition;
}

export interface ScanPosition {
  block: number;
  /** The tuple read last in `block`; 0: none yet. */
  offset: number;
  filenode: string;
}

const DIGITS = /^\d{1,18}$/;
const TID = /^(\d{1,10})\.(\d{1,5})$/;

export function encodePullCursor(code: string, p: PullPosition): string {
  if (p.scan) return encodeCursor([code, p.seq, 'scan', `${p.scan.block}.${p.scan.offset}`, p.scan.filenode]);
  return encodeCursor(p.rowId === null ? [code, p.seq] : [code, p.seq, p.rowId]);
}

export function decodePullCursor(code: string, raw: string): PullPosition {
  return decodeCursor(
    raw,
    (parts) => {
      if (parts[0] !== code) return undefined;
      const [, seq, third, tid, filenode] = parts;
      if (typeof seq !== 'string' || !DIGITS.test(seq)) return undefined;
      if (parts.length === 2) return { seq, rowId: null };
      if (parts.length === 3) return typeof third === 'string' && DIGITS.test(third) ? { seq, rowId: third } : undefined;
      const m = parts.length === 5 && third === 'scan' && typeof tid === 'string' ? TID.exec(tid) : null;
      if (!m || typeof filenode !== 'string' || !DIGITS.test(filenode)) return undefined;
      return { seq, rowId: null, scan: { block: Number(m[1]), offset: Number(m[2]), filenode } };
    },
    'querystring.since',
    'The cursor is not one a pull of this resource gave out; start a full pull without it.',
  );
}
