import type { Redis } from 'ioredis';
import type { DataSource } from 'typeorm';
import type { EventLogger } from './envelope';
import type { EventEnvelope } from './envelope';
import { domainOf, streamKey } from './streams';

export interface OutboxRelayOptions {
  prefix: string;
  batchSize?: number;
  /** Safety net for rows committed by other replicas or left over by a crash. */
  pollMs?: number;
  /** Approximate cap of each stream (XADD MAXLEN ~). */
  maxStreamLength?: number;
  logger?: EventLogger;
}

/**
 * Publishes committed outbox rows to Redis Streams in commit order. Rows are locked
 * with FOR UPDATE SKIP LOCKED so several replicas can relay at once; a row is marked
 * published only after Redis accepted it, so a Redis outage delays events and loses
 * none. A crash between XADD and the mark republishes: consumers dedupe by event id.
 */
export class OutboxRelay {
  private readonly batchSize: number;
  private readonly pollMs: number;
  private readonly maxLen: number;
  private timer?: NodeJS.Timeout;
  private running = false;
  private draining?: Promise<void>;
  private again = false;
  private failures = 0;

  constructor(
    private readonly dataSource: DataSource,
    private readonly redis: Redis,
    private readonly options: OutboxRelayOptions,
  ) {
    this.batchSize = options.batchSize ?? 500;
    this.pollMs = options.pollMs ?? 500;
    this.maxLen = options.maxStreamLength ?? 1_000_000;
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
    this.schedule(0);
  }

  /** Publishes everything pending now; resolves with how many were published. */
  async drain(): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await this.publishBatch();
      total += n;
      if (n < this.batchSize) return total;
    }
  }

  private schedule(delay: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.tick(), delay);
    this.timer.unref();
  }

  private tick(): void {
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
        const backoff = this.failures ? Math.min(5000, 100 * 2 ** Math.min(this.failures, 6)) : this.pollMs;
        if (this.again && !this.failures) {
          this.again = false;
          this.schedule(0);
        } else this.schedule(backoff);
      });
  }

  private publishBatch(): Promise<number> {
    return this.dataSource.transaction(async (manager) => {
      const rows: { id: string; envelope: EventEnvelope }[] = await manager.query('SELECT id, envelope FROM outbox WHERE published_at IS NULL ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED', [
        this.batchSize,
      ]);
      if (!rows.length) return 0;
      const pipeline = this.redis.pipeline();
      for (const row of rows) {
        pipeline.xadd(streamKey(this.options.prefix, domainOf(row.envelope.type)), 'MAXLEN', '~', this.maxLen, '*', 'event', JSON.stringify(row.envelope));
      }
      const results = await pipeline.exec();
      const failed = results?.find(([err]) => err);
      if (!results || failed) throw failed?.[0] ?? new Error('redis pipeline returned nothing');
      await manager.query('UPDATE outbox SET published_at = now() WHERE id = ANY($1::uuid[])', [rows.map((r) => r.id)]);
      return rows.length;
    });
  }
}
