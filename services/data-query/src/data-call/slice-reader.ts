import { createHash } from 'node:crypto';
import type { Pool } from 'pg';
import type { RowFilter } from '@gdx/contracts';
import type { DatasetRuntime } from '../datasets/dataset-registry';
import { RESULT_TYPES } from '../datasets/item-values';
import { q, SYS } from '../datasets/resource-model';
import type { QueryPlanner } from '../query/query-planner';
import type { PullPosition } from './pull-cursor';

/** A chunk of rows in pull order: item columns in dataset order, then change sequence, row id and whether the row is a tombstone. */
export interface SliceChunk {
  rows: unknown[][];
  /** The position after the chunk's last row. */
  last: PullPosition;
}

const MAX_ROW_ID = '9223372036854775807';

/**
 * Reads a grant's slice of a resource in (change sequence, row id) order, in keyset chunks:
 * each chunk is one short indexed statement, so a pull holds no transaction, no server
 * cursor and no more than one chunk in memory however large the table. Only sequences up
 * to `upTo` (committed when the pull began: batches commit in sequence order) are read, so
 * a pull ends, and a later pull from its cursor misses nothing.
 */
export class SliceReader {
  constructor(
    private readonly pool: Pool,
    private readonly planner: QueryPlanner,
  ) {}

  statement(ds: DatasetRuntime, rowFilter: RowFilter | null, tombstones: boolean): { name: string; text: string; filterValues: unknown[] } {
    const filterValues: unknown[] = [];
    // $1–$4 are the position, the upper bound and the chunk size.
    const p = (v: unknown, type: string) => {
      filterValues.push(v);
      return `$${filterValues.length + 4}::${type}`;
    };
    const seq = q(SYS.changeSeq);
    const rowId = q(SYS.rowId);
    const clauses = [`${seq} <= $3::bigint`, `(${seq}, ${rowId}) > ($1::bigint, $2::bigint)`, ...(tombstones ? [] : [`${q(SYS.deletedAt)} IS NULL`]), ...this.planner.rowFilterSql(ds, rowFilter, p)];
    // Aliased: ORDER BY would otherwise sort by the text output columns of the same name ("8" after "29").
    const text = `SELECT ${ds.selectList}, ${seq}::text AS pull_seq, ${rowId}::text AS pull_row, ${q(SYS.deletedAt)} IS NOT NULL AS pull_deleted FROM ${ds.table} WHERE ${clauses.join(' AND ')} ORDER BY ${seq}, ${rowId} LIMIT $4::int`;
    return { name: `dc_${createHash('sha1').update(`${ds.version}\n${text}`).digest('hex').slice(0, 20)}`, text, filterValues };
  }

  async *read(ds: DatasetRuntime, rowFilter: RowFilter | null, from: PullPosition | null, upTo: string, tombstones: boolean, chunkRows: number): AsyncGenerator<SliceChunk> {
    const { name, text, filterValues } = this.statement(ds, rowFilter, tombstones);
    const n = ds.items.length;
    let at: PullPosition = from ? { seq: from.seq, rowId: from.rowId ?? MAX_ROW_ID } : { seq: '-1', rowId: '-1' };
    for (;;) {
      const { rows } = await this.pool.query({ name, text, values: [at.seq, at.rowId, upTo, chunkRows, ...filterValues], rowMode: 'array', types: RESULT_TYPES });
      if (!rows.length) return;
      const lastRow = rows[rows.length - 1] as unknown[];
      at = { seq: lastRow[n] as string, rowId: lastRow[n + 1] as string };
      yield { rows: rows as unknown[][], last: at };
      if (rows.length < chunkRows) return;
    }
  }
}
