import type { Pool } from 'pg';
import { decodeCursor, encodeCursor, isUuidText } from '@gdx/service-kit';

/**
 * A page of a table's rows, newest first by their UUIDv7 id, after an opaque cursor: the
 * conditions are SQL with one `?` for their bound value each (never a value in the text).
 */
export async function keysetPage<R extends { id: string }, V>(
  pool: Pool,
  { table, columns, where, cursor, limit, view }: { table: string; columns: string; where: [sql: string, value: unknown][]; cursor?: string; limit: number; view: (r: R) => V },
): Promise<{ items: V[]; nextCursor: string | null }> {
  const after = cursor === undefined ? null : decodeCursor(cursor, (parts) => (parts.length === 1 && isUuidText(parts[0]) ? parts[0] : undefined));
  const conditions = after ? [...where, ['id < ?', after] as [string, unknown]] : where;
  const values = conditions.map(([, v]) => v);
  const clauses = conditions.map(([sql], i) => sql.replace('?', `$${i + 1}`));
  values.push(limit + 1);
  const { rows } = await pool.query<R>(`SELECT ${columns} FROM ${table} ${clauses.length ? `WHERE ${clauses.join(' AND ')}` : ''} ORDER BY id DESC LIMIT $${values.length}`, values);
  const items = rows.slice(0, limit);
  return { items: items.map(view), nextCursor: rows.length > limit ? encodeCursor([items[items.length - 1].id]) : null };
}
