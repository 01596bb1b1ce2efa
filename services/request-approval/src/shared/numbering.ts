import type { EntityManager } from 'typeorm';
import { uuidv7 } from '@gdx/database';

/**
 * The next number of a series, e.g. YY-2026-0001: year (local civil date) and sequence.
 * The counter row is taken under its lock in the caller's transaction, so numbers are
 * never given twice and a rolled-back case gives its number back.
 */
export async function nextNumber(m: EntityManager, prefix: string, localDate: string): Promise<string> {
  const year = Number(localDate.slice(0, 4));
  const rows = await m.query<{ last: number }[]>(
    'INSERT INTO case_counter (id, prefix, year, last) VALUES ($1, $2, $3, 1) ON CONFLICT (prefix, year) DO UPDATE SET last = case_counter.last + 1, updated_at = now() RETURNING last',
    [uuidv7(), prefix, year],
  );
  return `${prefix}-${year}-${String(rows[0].last).padStart(4, '0')}`;
}
