import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { DataSource, EntityManager } from 'typeorm';
import type { EventLogger } from './envelope';
import { domainOf, epochKey, streamKey } from './streams';

export interface OutboxRelayOptions {
  prefix: string;
  batchSize?: number;
  /** Safety net for rows committed by other replicas or left over by a crash. */
  pollMs?: number;
  /** Approximate cap of each stream (XADD MAXLEN ~). */
  maxStreamLength?: number;
  /** How often the relay compares the streams with what it published, advances the acknowledged marks and deletes old rows. */
  checkMs?: number;
  /** How long a published row stays after every consumer group acknowledged it. */
  retentionMs?: number;
  /**
   * How long a kick waits for more rows before publishing: under load the answered queries of a
   * few milliseconds go out in one batch (one transaction) instead of one batch per insert.
   */
  kickDelayMs?: number;
  logger?: EventLogger;
}

/** What a check found and did; the relay logs a replay as a warning. */
export interface RelayCheck {
  epoch: string;
  /** Domains whose unacknowledged rows were put back to be published again, and how many rows. */
  replayed: Record<string, number>;
  deleted: number;
}

/**
 * The XADDs of a batch, refused as a whole unless the streams are still those of the epoch the
 * relay knows: a Redis restarted empty has no epoch (or another relay's new one), and nothing is
 * published into it before the outbox's unacknowledged rows are queued again, in order.
 */
const PUBLISH = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return redis.error_reply('GDXEPOCH the event streams are not those this outbox published to')
end
local ids = {}
for i = 3, #ARGV do
  ids[#ids + 1] = redis.call('XADD', KEYS[i - 1], 'MAXLEN', '~', ARGV[2], '*', 'event', ARGV[i])
end
return ids`;

type RelayRedis = Redis & { gdxOutboxPublish(numKeys: number, ...args: (string | number)[]): Promise<string[]> };

/** A stream entry id as a comparable pair. */
type EntryId = readonly [ms: bigint, seq: bigint];
const ZERO: EntryId = [0n, 0n];
const MAX_SEQ = 2n ** 63n - 1n;

function parseId(id: string): EntryId {
  const [ms, seq] = id.split('-');
  return [BigInt(ms), BigInt(seq ?? 0)];
}
function compare(a: EntryId, b: EntryId): number {
  return a[0] !== b[0] ? (a[0] < b[0] ? -1 : 1) : a[1] === b[1] ? 0 : a[1] < b[1] ? -1 : 1;
}
/** The id just before `id`: what a group has acknowledged when `id` is its oldest pending entry. */
function before(id: EntryId): EntryId {
  if (id[1] > 0n) return [id[0], id[1] - 1n];
  return id[0] > 0n ? [id[0] - 1n, MAX_SEQ] : ZERO;
}
/** XINFO's flat [name, value, name, value…] as an object. */
function fields(flat: unknown[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[String(flat[i])] = flat[i + 1];
  return out;
}

/**
 * Publishes committed outbox rows to Redis Streams in commit order. Rows are locked
 * with FOR UPDATE SKIP LOCKED so several replicas can relay at once; a row is marked
 * published (with the entry id Redis gave it) only after Redis accepted it, so a Redis
 * outage delays events and loses none. A crash between XADD and the mark republishes:
 * consumers dedupe by event id.
 *
 * Redis is the transport, PostgreSQL the truth. A published row is kept until every consumer
 * group of its stream acknowledged it and the retention window passed. Every `checkMs` (and
 * whenever Redis refuses a batch for its epoch) the relay checks the streams: when Redis lost
 * them (its epoch marker is gone or is another, or a stream ends before what the groups had
 * acknowledged, as after a restore from an older snapshot) the rows not acknowledged by then
 * are queued to be published again, in their original order, before anything new.
 */
export class OutboxRelay {
  private readonly batchSize: number;
  private readonly pollMs: number;
  private readonly maxLen: number;
  private readonly checkMs: number;
  private readonly retentionMs: number;
  private readonly kickDelayMs: number;
  private kicked = false;
  private readonly redis: RelayRedis;
  private readonly epochKey: string;
  private timer?: NodeJS.Timeout;
  private running = false;
  private draining?: Promise<void>;
  private again = false;
  private failures = 0;
  /** The epoch this outbox is reconciled with; undefined until the first check and after Redis refused it. */
  private epoch?: string;
  private lastCheck = 0;
  private readonly knownDomains = new Set<string>();

  constructor(
    private readonly dataSource: DataSource,
    redis: Redis,
    private readonly options: OutboxRelayOptions,
  ) {
    this.batchSize = options.batchSize ?? 500;
    this.pollMs = options.pollMs ?? 500;
    this.maxLen = options.maxStreamLength ?? 1_000_000;
    this.checkMs = options.checkMs ?? 5_000;
    this.retentionMs = options.retentionMs ?? 24 * 3_600_000;
    this.kickDelayMs = options.kickDelayMs ?? 5;
    this.epochKey = epochKey(options.prefix);
    redis.defineCommand('gdxOutboxPublish', { lua: PUBLISH });
    this.redis = redis as RelayRedis;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    await this.draining;
  }

  kick(): void {
    if (!this.running) return;
    if (this.draining) {
      this.again = true;
      return;
    }
    if (this.kicked) return;
    this.kicked = true;
    this.schedule(this.kickDelayMs);
  }

  /** Publishes everything pending now; resolves with how many were published. */
  async drain(): Promise<number> {
    if (!this.epoch || Date.now() - this.lastCheck >= this.checkMs) await this.check();
    let total = 0;
    for (;;) {
      const n = await this.publishBatch();
      total += n;
      if (n < this.batchSize) return total;
    }
  }

  /**
   * Compares the streams with what this outbox published (replaying what Redis lost), moves
   * each stream's acknowledged mark to what every consumer group has acknowledged, and deletes
   * rows acknowledged longer ago than the retention window. Replicas take turns (an advisory lock).
   */
  async check(): Promise<RelayCheck> {
    let epoch = await this.redis.get(this.epochKey);
    if (!epoch) {
      await this.redis.set(this.epochKey, randomUUID(), 'NX');
      epoch = await this.redis.get(this.epochKey);
      if (!epoch) throw new Error('redis did not keep the event streams epoch');
    }
    const current = epoch;
    const result = await this.dataSource.transaction(async (m) => {
      await m.query(`SELECT pg_advisory_xact_lock(hashtext('gdx-outbox-relay'))`);
      const rows: { domain: string; epoch: string; acked_ms: string; acked_seq: string }[] = await m.query('SELECT domain, epoch, acked_ms, acked_seq FROM outbox_stream');
      const replayed: Record<string, number> = {};
      let deleted = 0;
      for (const row of rows) {
        const key = streamKey(this.options.prefix, row.domain);
        let acked: EntryId = [BigInt(row.acked_ms), BigInt(row.acked_seq)];
        let from: EntryId | undefined;
        if (row.epoch !== current) {
          // Redis restarted empty (or its epoch was replaced): everything after the mark is gone.
          from = acked;
          acked = ZERO;
        } else {
          const last = await this.lastGenerated(key);
          if (compare(last, acked) < 0) {
            // The stream ends before entries every group had acknowledged: restored from an older state.
            from = last;
            acked = last;
          }
        }
        if (from) {
          const n = await this.requeue(m, row.domain, from);
          if (n) replayed[row.domain] = n;
        }
        acked = (await this.acknowledged(key)) ?? acked;
        deleted += await this.forget(m, row.domain, acked);
        await m.query('UPDATE outbox_stream SET epoch = $2, acked_ms = $3, acked_seq = $4, updated_at = now() WHERE domain = $1', [row.domain, current, String(acked[0]), String(acked[1])]);
        this.knownDomains.add(row.domain);
      }
      return { epoch: current, replayed, deleted };
    });
    this.epoch = current;
    this.lastCheck = Date.now();
    if (Object.keys(result.replayed).length)
      this.options.logger?.warn({ replayed: result.replayed, epoch: current }, 'redis lost events the consumers had not acknowledged; publishing them again from the outbox');
    return result;
  }

  private schedule(delay: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.tick(), delay);
    this.timer.unref();
  }

  private tick(): void {
    this.kicked = false;
    if (!this.running || this.draining) return;
    this.draining = this.drain()
      .then(() => {
        this.failures = 0;
      })
      .catch((err: unknown) => {
        this.failures++;
        // Redis or PostgreSQL is away: log once per outage, keep retrying with backoff.
        if (this.failures === 1) this.options.logger?.warn({ err }, 'outbox relay cannot publish; will retry');
      })
      .finally(() => {
        this.draining = undefined;
        if (!this.running) return;
        const backoff = this.failures ? Math.min(5000, 100 * 2 ** Math.min(this.failures, 6)) : Math.min(this.pollMs, this.checkMs);
        if (this.again && !this.failures) {
          this.again = false;
          this.kicked = true;
          this.schedule(this.kickDelayMs);
        } else this.schedule(backoff);
      });
  }

  private publishBatch(): Promise<number> {
    const epoch = this.epoch;
    if (!epoch) return Promise.reject(new Error('the event streams epoch is not known yet'));
    return this.dataSource.transaction(async (manager) => {
      // Marking rows published needs no flush to disk before the next batch: lost in a crash, they
      // are published again and the consumers dedupe. (The rows themselves were committed durably.)
      await manager.query('SET LOCAL synchronous_commit TO off');
      const rows: { id: string; type: string; envelope: string }[] = await manager.query(
        'SELECT id, type, envelope FROM outbox WHERE published_at IS NULL ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED',
        [this.batchSize],
      );
      if (!rows.length) return 0;
      const domains = rows.map((r) => domainOf(r.type));
      const keys = domains.map((d) => streamKey(this.options.prefix, d));
      let ids: string[];
      try {
        ids = await this.redis.gdxOutboxPublish(1 + keys.length, this.epochKey, ...keys, epoch, this.maxLen, ...rows.map((r) => r.envelope));
      } catch (err) {
        // Checked again before the next batch: a replay may be due.
        if (String(err).includes('GDXEPOCH')) this.epoch = undefined;
        throw err;
      }
      const entry = ids.map(parseId);
      await manager.query(
        `UPDATE outbox o SET published_at = now(), stream_ms = x.ms, stream_seq = x.seq
         FROM unnest($1::uuid[], $2::bigint[], $3::bigint[]) AS x(id, ms, seq) WHERE o.id = x.id`,
        [rows.map((r) => r.id), entry.map((e) => String(e[0])), entry.map((e) => String(e[1]))],
      );
      const fresh = [...new Set(domains)].filter((d) => !this.knownDomains.has(d));
      if (fresh.length) {
        // A stream this outbox had not published to: from now on its rows are replayed if Redis loses them.
        await manager.query(
          `INSERT INTO outbox_stream (id, domain, epoch, acked_ms, acked_seq, created_at, updated_at)
           SELECT gen_random_uuid(), d, $2, 0, 0, now(), now() FROM unnest($1::text[]) AS d ON CONFLICT (domain) DO NOTHING`,
          [fresh, epoch],
        );
        fresh.forEach((d) => this.knownDomains.add(d));
      }
      return rows.length;
    });
  }

  /** The last entry id the stream ever generated (0-0 when the stream does not exist). */
  private async lastGenerated(key: string): Promise<EntryId> {
    try {
      const info = fields((await this.redis.xinfo('STREAM', key)) as unknown[]);
      return parseId(String(info['last-generated-id']));
    } catch (err) {
      if (String(err).includes('no such key')) return ZERO;
      throw err;
    }
  }

  /** What every consumer group of the stream has acknowledged (undefined when it has no group: nothing can be said). */
  private async acknowledged(key: string): Promise<EntryId | undefined> {
    let groups: unknown[][];
    try {
      groups = (await this.redis.xinfo('GROUPS', key)) as unknown[][];
    } catch (err) {
      if (String(err).includes('no such key')) return undefined;
      throw err;
    }
    let min: EntryId | undefined;
    for (const g of groups.map(fields)) {
      let acked = parseId(String(g['last-delivered-id']));
      if (Number(g.pending) > 0) {
        const [, oldest] = (await this.redis.xpending(key, String(g.name))) as [number, string | null];
        if (oldest) acked = before(parseId(oldest));
      }
      if (!min || compare(acked, min) < 0) min = acked;
    }
    return min;
  }

  /** Marks the domain's rows published after `from` unpublished again; the relay then sends them in order. */
  private async requeue(m: EntityManager, domain: string, from: EntryId): Promise<number> {
    const rows: unknown[] = await m.query(
      `UPDATE outbox SET published_at = NULL, stream_ms = NULL, stream_seq = NULL
       WHERE published_at IS NOT NULL AND split_part(type, '.', 1) = $1 AND (stream_ms, stream_seq) > ($2::bigint, $3::bigint) RETURNING 1`,
      [domain, String(from[0]), String(from[1])],
    );
    return rows.length;
  }

  /** Deletes (a bounded number of) rows every group acknowledged that are older than the retention window. */
  private async forget(m: EntityManager, domain: string, acked: EntryId): Promise<number> {
    const rows: unknown[] = await m.query(
      `DELETE FROM outbox WHERE id IN (
         SELECT id FROM outbox WHERE published_at IS NOT NULL AND published_at < now() - make_interval(secs => $1)
           AND split_part(type, '.', 1) = $2 AND (stream_ms IS NULL OR (stream_ms, stream_seq) <= ($3::bigint, $4::bigint))
         ORDER BY published_at LIMIT 10000)
       RETURNING 1`,
      [this.retentionMs / 1000, domain, String(acked[0]), String(acked[1])],
    );
    return rows.length;
  }
}
