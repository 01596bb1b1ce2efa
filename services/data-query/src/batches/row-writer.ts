import type { EntityManager } from 'typeorm';
import type { DatasetRuntime } from '../datasets/dataset-registry';
import { paramTypeOf, q, SYS } from '../datasets/resource-model';
import type { BoundValue } from '../datasets/item-values';
import type { ValidRow } from './row-validator';

/**
 * Writes validated rows of one batch in chunks, each a single statement whose
 * every column is one array parameter (INSERT … SELECT FROM unnest … ON CONFLICT),
 * so a chunk of thousands of rows costs one round trip and a fixed number of
 * parameters. Rows are applied in submission order: a chunk is flushed before an
 * operation of the other kind, or a key already in the chunk, is added.
 */
export class RowWriter {
  upserted = 0;
  /** Of the upserted, keys the table did not hold, and tombstones brought back. */
  inserted = 0;
  revived = 0;
  deleted = 0;
  unmatchedDeletes = 0;
  private op: ValidRow['op'] = 'upsert';
  private rows: ValidRow[] = [];
  private keys = new Set<string>();
  private readonly upsertSql: string;
  private readonly deleteSql: string;

  constructor(
    private readonly m: EntityManager,
    private readonly ds: DatasetRuntime,
    private readonly changeSeq: string,
    private readonly chunkRows: number,
  ) {
    const cols = ds.items.map((i) => q(ds.columnByKey.get(i.key)!));
    const key = q(ds.columnByKey.get(ds.upsertKey)!);
    const n = ds.items.length;
    const unnest = ds.items.map((i, idx) => `$${idx + 1}::${paramTypeOf(i)}[]`).join(', ');
    const keyParam = `$${ds.items.findIndex((i) => i.key === ds.upsertKey) + 1}`;
    // Also counts what the batch adds to the records held: keys new to the table (xmax = 0 on an
    // inserted row) and tombstones brought back (read in the statement's one snapshot, before it).
    this.upsertSql =
      `WITH prior AS (SELECT count(*) AS n FROM ${ds.table} WHERE ${key} = ANY(${keyParam}) AND ${q(SYS.deletedAt)} IS NOT NULL), ` +
      `up AS (INSERT INTO ${ds.table} (${cols.join(', ')}, ${q(SYS.changeSeq)}, ${q(SYS.updatedAt)}, ${q(SYS.deletedAt)}) ` +
      `SELECT u.*, $${n + 1}::bigint, now(), NULL FROM unnest(${unnest}) AS u ` +
      `ON CONFLICT (${key}) DO UPDATE SET ${cols.map((c) => `${c} = EXCLUDED.${c}`).join(', ')}, ` +
      `${q(SYS.changeSeq)} = EXCLUDED.${q(SYS.changeSeq)}, ${q(SYS.updatedAt)} = now(), ${q(SYS.deletedAt)} = NULL ` +
      `RETURNING (xmax = 0) AS fresh) ` +
      `SELECT (SELECT count(*) FROM up WHERE fresh)::int AS inserted, (SELECT n FROM prior)::int AS revived`;
    // A delete leaves a tombstone for incremental pulls and clears every other value, but for the
    // query keys: a grant's row filter (on query keys) must still tell whose slice the tombstone is in.
    const clear = ds.items.filter((i) => i.key !== ds.upsertKey && !i.queryKey).map((i) => `${q(ds.columnByKey.get(i.key)!)} = NULL`);
    this.deleteSql =
      `UPDATE ${ds.table} SET ${[...clear, `${q(SYS.changeSeq)} = $2::bigint`, `${q(SYS.updatedAt)} = now()`, `${q(SYS.deletedAt)} = now()`].join(', ')} ` +
      `WHERE ${key} = ANY($1::${paramTypeOf(ds.itemsByKey.get(ds.upsertKey)!)}[]) AND ${q(SYS.deletedAt)} IS NULL`;
  }

  async add(row: ValidRow): Promise<void> {
    if (this.rows.length && (row.op !== this.op || this.keys.has(row.key) || this.rows.length >= this.chunkRows)) await this.flush();
    this.op = row.op;
    this.rows.push(row);
    this.keys.add(row.key);
  }

  async flush(): Promise<void> {
    const rows = this.rows;
    if (!rows.length) return;
    this.rows = [];
    this.keys = new Set();
    if (this.op === 'upsert') {
      const columns: BoundValue[][] = this.ds.items.map(() => new Array<BoundValue>(rows.length));
      for (let r = 0; r < rows.length; r++) {
        const v = rows[r].values;
        for (let c = 0; c < columns.length; c++) columns[c][r] = v[c];
      }
      const [counts] = await this.m.query<{ inserted: number; revived: number }[]>(this.upsertSql, [...columns, this.changeSeq]);
      this.upserted += rows.length;
      this.inserted += counts.inserted;
      this.revived += counts.revived;
    } else {
      // TypeORM answers an UPDATE with [rows, affected].
      const [, affected] = await this.m.query<[unknown, number]>(this.deleteSql, [rows.map((r) => r.key), this.changeSeq]);
      this.deleted += affected;
      this.unmatchedDeletes += rows.length - affected;
    }
  }
}
