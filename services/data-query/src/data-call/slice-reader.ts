import { createHash } from 'node:crypto';
import type { Pool } from 'pg';
import type { RowFilter } from '@gdx/contracts';
import type { DatasetRuntime } from '../datasets/dataset-registry';
import { q, SYS } from '../datasets/resource-model';
import type { ClearTerms } from '../query/masking';
import type { QueryPlanner } from '../query/query-planner';
import type { PullPosition, ScanPosition } from './pull-cursor';
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

/** What a full pull's physical scan needs to know of the table when it begins. */
export interface ScanInfo {
  filenode: string;
  blocks: number;
  rowsPerBlock: number;
}

interface ScannedRange {
  records: string[];
  /** Each record's tuple, `(block,offset)`. */
  tids: string[];
  endBlock: number;
}

const noop = () => undefined;

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

  async scanInfo(ds: DatasetRuntime): Promise<ScanInfo> {
    const { rows } = await this.pool.query<{ filenode: string; blocks: number; per_block: number }>(
      `SELECT pg_relation_filenode(c.oid)::text AS filenode, (pg_relation_size(c.oid) / current_setting('block_size')::int)::int AS blocks,
              CASE WHEN c.relpages > 0 AND c.reltuples > 0 THEN c.reltuples / c.relpages ELSE 60 END AS per_block
         FROM pg_class c WHERE c.oid = $1::regclass`,
      [ds.table],
    );
    return { filenode: rows[0].filenode, blocks: rows[0].blocks, rowsPerBlock: Number(rows[0].per_block) };
  }

  private scanStatement({ ds, grant, items, format }: SliceShape): { name: string; text: string; filterValues: unknown[] } {
    const filterValues: unknown[] = [];
    // $1–$3 are the range (tuples after $1, before $2) and the upper bound of the sequence.
    const p = (v: unknown, type: string) => {
      filterValues.push(v);
      return `$${filterValues.length + 3}::${type}`;
    };
    const clauses = ['ctid > $1::tid', 'ctid < $2::tid', `${q(SYS.changeSeq)} <= $3::bigint`, `${q(SYS.deletedAt)} IS NULL`, ...this.planner.rowFilterSql(ds, grant.rowFilter, p)];
    const text = `SELECT ${recordSql(format, ds, grant, items, 'false', false)} AS record, ctid::text AS tid FROM ${ds.table} WHERE ${clauses.join(' AND ')} ORDER BY ctid`;
    return { name: `ds_${createHash('sha1').update(`${ds.version}\n${text}`).digest('hex').slice(0, 20)}`, text, filterValues };
  }

  /**
   * A full pull's reader: the table in physical order, a range of blocks per statement (a TID
   * range scan: no index, no sort beyond the range), `readAhead` ranges in flight at once so
   * that PostgreSQL builds the next ranges while this process sends the last. `next(limit)`
   * answers at most `limit` records from where the last call ended; an empty chunk is the end.
   */
  openScan(shape: SliceShape, info: ScanInfo, from: ScanPosition | null, upTo: string, chunkRows: number, readAhead: number): (limit: number) => Promise<SliceChunk> {
    const { name, text, filterValues } = this.scanStatement(shape);
    const blocksPerRange = Math.max(1, Math.round(chunkRows / Math.max(1, info.rowsPerBlock)));
    const sep = SEPARATORS[shape.format];
    let nextBlock = from?.block ?? 0;
    let firstOffset = from?.offset ?? 0;
    let position: ScanPosition = from ?? { block: 0, offset: 0, filenode: info.filenode };
    const inFlight: Promise<ScannedRange>[] = [];
    let current: (ScannedRange & { i: number }) | null = null;
    const fill = () => {
      while (inFlight.length < readAhead && nextBlock < info.blocks) {
        const start = `(${nextBlock},${firstOffset})`;
        const endBlock = Math.min(nextBlock + blocksPerRange, info.blocks);
        const read = this.pool.query({ name, text, values: [start, `(${endBlock},0)`, upTo, ...filterValues], rowMode: 'array' }).then(({ rows }) => {
          const found = rows as [string, string][];
          return { records: found.map((r) => r[0]), tids: found.map((r) => r[1]), endBlock };
        });
        // Awaited in order below; a range read ahead and then abandoned must not become an unhandled rejection.
        read.catch(noop);
        inFlight.push(read);
        nextBlock = endBlock;
        firstOffset = 0;
      }
    };
    return async (limit) => {
      const out: string[] = [];
      while (out.length < limit) {
        if (!current) {
          fill();
          const read = inFlight.shift();
          if (!read) break;
          current = { ...(await read), i: 0 };
          fill();
        }
        const take = Math.min(limit - out.length, current.records.length - current.i);
        for (let k = 0; k < take; k++) out.push(current.records[current.i + k]);
        current.i += take;
        if (current.i < current.records.length) {
          const m = /^\((\d+),(\d+)\)$/.exec(current.tids[current.i - 1])!;
          position = { block: Number(m[1]), offset: Number(m[2]), filenode: info.filenode };
        } else {
          position = { block: current.endBlock, offset: 0, filenode: info.filenode };
          current = null;
        }
      }
      return { text: out.join(sep), rows: out.length, tombstones: 0, last: { seq: upTo, rowId: null, scan: position } };
    };
  }
}
