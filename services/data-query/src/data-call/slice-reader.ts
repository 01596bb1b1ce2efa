import { createHash } from 'node:crypto';
import type { Pool } from 'pg';
import type { RowFilter } from '@gdx/contracts';
import type { DatasetRuntime } from '../datasets/dataset-registry';
import { q, SYS } from '../datasets/resource-model';
import type { ClearTerms } from '../query/masking';
import type { QueryPlanner } from '../query/query-planner';
import type { PullPosition } from './pull-cursor';
import type { PullFormatName } from './pull-formats';
import { recordSql } from './sql-presenter';

/** A chunk of a pull: its records as the recipient gets them, joined by the format's separator. */
export interface SliceChunk {
  text: string;
  rows: number;
  tombstones: number;
  /** The position after the chunk's last record. */
  last: PullPosition;
}

export interface SliceShape {
  ds: DatasetRuntime;
  grant: ClearTerms & { rowFilter: RowFilter | null };
  items: readonly string[];
  format: PullFormatName;
  /** Incremental: deleted rows are read too, as tombstones. */
  tombstones: boolean;
}

const MAX_ROW_ID = '9223372036854775807';
const SEPARATORS: Record<PullFormatName, string> = { ndjson: '\n', csv: '\r\n', json: ',' };

/**
 * Reads a grant's slice of a resource in (change sequence, row id) order, in keyset chunks:
 * each chunk is one short indexed statement whose single answer is the chunk's text, built,
 * masked and formatted by PostgreSQL (sql-presenter.ts), so a pull holds no transaction, no
 * server cursor and no more than one chunk in memory however large the table. Only sequences
 * up to `upTo` (committed when the pull began: batches commit in sequence order) are read, so
 * a pull ends, and a later pull from its cursor misses nothing.
 */
export class SliceReader {
  constructor(
    private readonly pool: Pool,
    private readonly planner: QueryPlanner,
  ) {}

  private statement({ ds, grant, items, format, tombstones }: SliceShape): { name: string; text: string; filterValues: unknown[] } {
    const filterValues: unknown[] = [];
    // $1–$4 are the position, the upper bound and the chunk size.
    const p = (v: unknown, type: string) => {
      filterValues.push(v);
      return `$${filterValues.length + 4}::${type}`;
    };
    const seq = q(SYS.changeSeq);
    const rowId = q(SYS.rowId);
    const deleted = `(${q(SYS.deletedAt)} IS NOT NULL)`;
    const clauses = [
      `${seq} <= $3::bigint`,
      `(${seq}, ${rowId}) > ($1::bigint, $2::bigint)`,
      ...(tombstones ? [] : [`${q(SYS.deletedAt)} IS NULL`]),
      ...this.planner.rowFilterSql(ds, grant.rowFilter, p),
    ];
    const inner = `SELECT ${recordSql(format, ds, grant, items, deleted, tombstones)} AS record, ${seq} AS s, ${rowId} AS r, ${deleted} AS d FROM ${ds.table} WHERE ${clauses.join(' AND ')} ORDER BY ${seq}, ${rowId} LIMIT $4::int`;
    const sep = SEPARATORS[format].replace(/\r/g, '\\r').replace(/\n/g, '\\n');
    const text = `SELECT string_agg(record, E'${sep}' ORDER BY s, r) AS text, count(*)::int AS rows, (count(*) FILTER (WHERE d))::int AS tombstones, (max(ARRAY[s, r]))[1]::text AS seq, (max(ARRAY[s, r]))[2]::text AS row_id FROM (${inner}) chunk`;
    return { name: `dc_${createHash('sha1').update(`${ds.version}\n${text}`).digest('hex').slice(0, 20)}`, text, filterValues };
  }

  /**
   * A reader of the slice from `from` (null: the beginning) up to `upTo`, one chunk of at most
   * `limit` records per call; an empty chunk (rows 0) is the end.
   */
  open(shape: SliceShape, from: PullPosition | null, upTo: string): (limit: number) => Promise<SliceChunk> {
    const { name, text, filterValues } = this.statement(shape);
    let at: PullPosition = from ? { seq: from.seq, rowId: from.rowId ?? MAX_ROW_ID } : { seq: '-1', rowId: '-1' };
    return async (limit) => {
      const { rows } = await this.pool.query<{ text: string | null; rows: number; tombstones: number; seq: string | null; row_id: string | null }>({
        name,
        text,
        values: [at.seq, at.rowId, upTo, limit, ...filterValues],
      });
      const r = rows[0];
      if (!r.rows) return { text: '', rows: 0, tombstones: 0, last: at };
      at = { seq: r.seq!, rowId: r.row_id! };
      return { text: r.text ?? '', rows: r.rows - r.tombstones, tombstones: r.tombstones, last: at };
    };
  }
}
