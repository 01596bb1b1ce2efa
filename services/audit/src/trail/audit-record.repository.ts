import type { DataSource, EntityManager } from 'typeorm';
import { from as copyFrom, type CopyStreamQuery } from 'pg-copy-streams';
import { recordFromRow, type AuditRecordRow } from './audit-record.mapper';
import type { AuditRecord, ChainHead, RecordDraft } from './audit-record.model';
import type { LinkedBatch } from './chain.service';

/** Who may read what: the office reads everything, a unit the records about its calls and its resources. */
export type Visibility = { all: true } | { all: false; unitId: string };

export interface RecordFilter {
  unitId?: string;
  accountId?: string;
  clientId?: string;
  resourceCode?: string;
  grantId?: string;
  /** An event type, or `domain.*` for every type of a domain. */
  action?: string;
  result?: string;
  requestId?: string;
  /** What the event is about: a resource code, a grant id, a share request id, an account id… */
  subject?: string;
  from?: string;
  to?: string;
}

export interface PageKey {
  occurredAt: string;
  id: string;
}

const COLUMNS = `event_id, chain, position, type, occurred_at, recorded_at, actor_kind, actor_unit_id, actor_account_id, actor_client_id,
  subject, traceparent, resource_code, grant_id, route, mode, items, row_count, result, latency_ms, request_id, source_address,
  owner_unit_id, data, prev_hash, hash, original_sha256`;

/**
 * Column, SQL type, value: the leading fields of each row the insert sends.
 * Three more follow: data (as canonical JSON), prev_hash, hash.
 */
const LEADING_COLUMNS: [string, string, (r: AuditRecord) => unknown][] = [
  ['event_id', 'uuid', (r) => r.id],
  ['chain', 'int', (r) => r.chain],
  ['position', 'bigint', (r) => r.position],
  ['type', 'text', (r) => r.type],
  ['occurred_at', 'timestamptz', (r) => r.occurredAt],
  ['recorded_at', 'timestamptz', (r) => r.recordedAt],
  ['actor_kind', 'text', (r) => r.actor.kind],
  ['actor_unit_id', 'text', (r) => r.actor.unitId],
  ['actor_account_id', 'text', (r) => r.actor.accountId],
  ['actor_client_id', 'text', (r) => r.actor.clientId],
  ['subject', 'text', (r) => r.subject],
  ['traceparent', 'text', (r) => r.traceparent],
  ['resource_code', 'text', (r) => r.resourceCode],
  ['grant_id', 'text', (r) => r.grantId],
  ['route', 'text', (r) => r.route],
  ['mode', 'text', (r) => r.mode],
  ['items', 'text[]', (r) => (r.items ? arrayLiteral(r.items) : null)],
  ['row_count', 'bigint', (r) => r.rowCount],
  ['result', 'text', (r) => r.result],
  ['latency_ms', 'float8', (r) => r.latencyMs],
  ['request_id', 'text', (r) => r.requestId],
  ['source_address', 'text', (r) => r.sourceAddress],
  ['owner_unit_id', 'text', (r) => r.ownerUnitId],
  // Null but on the rare escaped record (escape.ts).
  ['original_sha256', 'text', (r) => r.originalSha256 ?? null],
];
const COPY_SQL = `COPY audit_record (${LEADING_COLUMNS.map(([c]) => c).join(', ')}, data, prev_hash, hash) FROM STDIN`;

/** Characters of COPY text per write: well under V8's large-object threshold once encoded. */
const COPY_CHUNK_CHARS = 32_000;

const NEEDS_ESCAPE = /[\\\t\n\r]/;
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/** A value as a field of COPY's text format: \N for null, backslash, tab and line breaks escaped. */
function copyField(value: unknown): string {
  if (value === null || value === undefined) return '\\N';
  // Columns hold strings, numbers, booleans and dates; objects were serialised to JSON before.
  // eslint-disable-next-line @typescript-eslint/no-base-to-string
  const t = typeof value === 'string' ? value : String(value);
  return NEEDS_ESCAPE.test(t) ? t.replace(/[\\\t\n\r]/g, (ch) => ESCAPES[ch]) : t;
}

/** A PostgreSQL array literal of text: every element quoted, quotes and backslashes escaped. */
function arrayLiteral(items: string[]): string {
  return `{${items.map((s) => `"${s.replace(/["\\]/g, '\\$&')}"`).join(',')}}`;
}

/** Keeps the advisory locks of the chains apart from anybody else's (the first key of the pair). */
const CHAIN_LOCK_SPACE = 0x6764_7861; // "gdxa"

/**
 * SQL over the trail's tables. They are partitioned and append-only, which TypeORM
 * entities cannot describe, so they are not entities; this is the one place that
 * knows their columns.
 */
export class AuditRecordRepository {
  constructor(private readonly db: DataSource) {}

  /**
   * Claims the events' ids; answers those already claimed before (by an earlier
   * delivery, or a concurrent replica's copy of the event), which meet the primary
   * key and are left out. Only those come back: on the normal path, none, so
   * nothing is sent back and parsed per event. Ids go in sorted (one text
   * parameter each, split by PostgreSQL: cheaper than array literals) so that two
   * writers claiming overlapping ids wait on each other in the same order and
   * never deadlock.
   */
  async claim(m: EntityManager, drafts: RecordDraft[]): Promise<Set<string>> {
    const sorted = [...drafts].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    let ids = '';
    let times = '';
    for (let i = 0; i < sorted.length; i++) {
      ids += i ? `,${sorted[i].id}` : sorted[i].id;
      times += i ? `,${sorted[i].occurredAt}` : sorted[i].occurredAt;
    }
    const rows: { event_id: string }[] = await m.query(
      `WITH k AS (
         SELECT id::uuid, at::timestamptz, n FROM unnest(string_to_array($1, ','), string_to_array($2, ',')) WITH ORDINALITY AS k(id, at, n)
       ), claimed AS (
         INSERT INTO audit_record_key (event_id, occurred_at) SELECT id, at FROM k ORDER BY n
         ON CONFLICT (event_id) DO NOTHING RETURNING event_id
       )
       SELECT id AS event_id FROM k WHERE id NOT IN (SELECT event_id FROM claimed)`,
      [ids, times],
    );
    return new Set(rows.map((r) => r.event_id));
  }

  /**
   * Locks a chain for this transaction: the first free one from `start` on, so
   * concurrent writers spread over the chains instead of queueing; when all are
   * busy, waits for the chain at `start`.
   */
  async lockChain(m: EntityManager, chains: number, start: number): Promise<number> {
    const [free]: { chain: number }[] = await m.query(
      `SELECT c AS chain FROM (SELECT (s + $2) % $1 AS c, s FROM generate_series(0, $1 - 1) AS s) x
        WHERE pg_try_advisory_xact_lock($3, c) ORDER BY s LIMIT 1`,
      [chains, start % chains, CHAIN_LOCK_SPACE],
    );
    if (free) return free.chain;
    const chain = start % chains;
    await m.query('SELECT pg_advisory_xact_lock($1, $2)', [CHAIN_LOCK_SPACE, chain]);
    return chain;
  }

  /** The last record of a chain; call it holding the chain's lock. */
  async head(m: EntityManager | DataSource, chain: number): Promise<ChainHead> {
    const [row]: { position: string; hash: string }[] = await m.query('SELECT position, hash FROM audit_record WHERE chain = $1 ORDER BY position DESC LIMIT 1', [chain]);
    return row ? { chain, position: Number(row.position), hash: row.hash } : { chain, position: 0, hash: '' };
  }

  /**
   * One COPY per batch, in PostgreSQL's text format: the cheapest way for the
   * server to take rows (no JSON wrapper to parse and take apart, column by column),
   * and for this process to write them. It runs on the transaction's own
   * connection, so it commits or rolls back with the claim and the chain lock. The
   * event's data goes in as the canonical JSON its hash was computed over.
   */
  async insert(m: EntityManager, { records, dataJson }: LinkedBatch): Promise<void> {
    const client = (m.queryRunner as unknown as { databaseConnection?: { query: (s: CopyStreamQuery) => CopyStreamQuery } } | undefined)?.databaseConnection;
    if (!client) throw new Error('insert needs the transaction’s own connection');
    const copy = client.query(copyFrom(COPY_SQL));
    const done = new Promise<void>((resolve, reject) => {
      copy.on('finish', resolve);
      copy.on('error', reject);
    });
    // Written in chunks of a few dozen rows: each chunk is small enough to die young
    // in V8's new space, where one text for the whole batch would be a large object
    // in the old generation, and that is what made the service's memory grow.
    let text = '';
    for (let i = 0; i < records.length; i++) {
      const r = records[i];
      for (let c = 0; c < LEADING_COLUMNS.length; c++) text += `${copyField(LEADING_COLUMNS[c][2](r))}\t`;
      text += `${copyField(dataJson[i])}\t${r.prevHash}\t${r.hash}\n`;
      if (text.length >= COPY_CHUNK_CHARS || i === records.length - 1) {
        const more = copy.write(text);
        text = '';
        if (!more) await new Promise((resolve) => copy.once('drain', resolve));
      }
    }
    copy.end();
    await done;
  }

  /** Chains that hold records, found by skipping through the (chain, position) index rather than scanning. */
  async chains(): Promise<number[]> {
    const rows: { chain: number }[] = await this.db.query(
      `WITH RECURSIVE c AS (
         (SELECT chain FROM audit_record ORDER BY chain LIMIT 1)
         UNION ALL
         SELECT (SELECT r.chain FROM audit_record r WHERE r.chain > c.chain ORDER BY r.chain LIMIT 1) FROM c WHERE c.chain IS NOT NULL
       ) SELECT chain FROM c WHERE chain IS NOT NULL`,
    );
    return rows.map((r) => r.chain);
  }

  async heads(m: EntityManager | DataSource, chains: number[]): Promise<ChainHead[]> {
    if (!chains.length) return [];
    const rows: { chain: number; position: string; hash: string }[] = await m.query(
      `SELECT c.chain, r.position, r.hash FROM unnest($1::int[]) AS c(chain)
        CROSS JOIN LATERAL (SELECT position, hash FROM audit_record WHERE chain = c.chain ORDER BY position DESC LIMIT 1) r
        ORDER BY c.chain`,
      [chains],
    );
    return rows.map((r) => ({ chain: r.chain, position: Number(r.position), hash: r.hash }));
  }

  /**
   * Every record of one chain in order, paged on (position, event_id) so that a
   * position held by two records (a forgery) is read twice, not skipped.
   */
  async *chainRecords(chain: number, pageSize = 5000): AsyncGenerator<AuditRecord> {
    let after: [number, string] = [0, '00000000-0000-0000-0000-000000000000'];
    for (;;) {
      const rows: AuditRecordRow[] = await this.db.query(`SELECT ${COLUMNS} FROM audit_record WHERE chain = $1 AND (position, event_id) > ($2, $3::uuid) ORDER BY position, event_id LIMIT $4`, [
        chain,
        after[0],
        after[1],
        pageSize,
      ]);
      for (const row of rows) yield recordFromRow(row);
      if (rows.length < pageSize) return;
      const last = rows[rows.length - 1];
      after = [Number(last.position), last.event_id];
    }
  }

  async findById(id: string, visibility: Visibility): Promise<AuditRecord | null> {
    const params: unknown[] = [id];
    const visible = this.visibilitySql(visibility, params);
    // The key table names the partition, so only that month is read.
    const rows: AuditRecordRow[] = await this.db.query(
      `SELECT ${COLUMNS} FROM audit_record WHERE event_id = $1 AND occurred_at = (SELECT occurred_at FROM audit_record_key WHERE event_id = $1)${visible ? ` AND ${visible}` : ''}`,
      params,
    );
    return rows[0] ? recordFromRow(rows[0]) : null;
  }

  /** Newest first, keyset-paged on (occurred_at, event_id). */
  async search(filter: RecordFilter, visibility: Visibility, limit: number, after?: PageKey): Promise<AuditRecord[]> {
    const params: unknown[] = [];
    const where: string[] = [];
    const p = (v: unknown) => {
      params.push(v);
      return `$${params.length}`;
    };
    const visible = this.visibilitySql(visibility, params);
    if (visible) where.push(visible);
    if (filter.unitId) where.push(`actor_unit_id = ${p(filter.unitId)}`);
    if (filter.accountId) where.push(`actor_account_id = ${p(filter.accountId)}`);
    if (filter.clientId) where.push(`actor_client_id = ${p(filter.clientId)}`);
    if (filter.resourceCode) where.push(`resource_code = ${p(filter.resourceCode)}`);
    if (filter.grantId) where.push(`grant_id = ${p(filter.grantId)}`);
    if (filter.action?.endsWith('.*')) where.push(`type LIKE ${p(filter.action.slice(0, -1).replace(/[\\%_]/g, '\\$&') + '%')}`);
    else if (filter.action) where.push(`type = ${p(filter.action)}`);
    if (filter.result) where.push(`result = ${p(filter.result)}`);
    if (filter.requestId) where.push(`request_id = ${p(filter.requestId)}`);
    if (filter.subject) where.push(`subject = ${p(filter.subject)}`);
    if (filter.from) where.push(`occurred_at >= ${p(filter.from)}`);
    if (filter.to) where.push(`occurred_at < ${p(filter.to)}`);
    if (after) where.push(`(occurred_at, event_id) < (${p(after.occurredAt)}::timestamptz, ${p(after.id)}::uuid)`);
    const rows: AuditRecordRow[] = await this.db.query(
      `SELECT ${COLUMNS} FROM audit_record ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY occurred_at DESC, event_id DESC LIMIT ${p(limit)}`,
      params,
    );
    return rows.map(recordFromRow);
  }

  private visibilitySql(visibility: Visibility, params: unknown[]): string | null {
    if (visibility.all) return null;
    params.push(visibility.unitId);
    const n = `$${params.length}`;
    return `(actor_unit_id = ${n} OR owner_unit_id = ${n})`;
  }
}
