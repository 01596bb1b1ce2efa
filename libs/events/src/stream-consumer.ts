import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import type { DataSource, EntityManager } from 'typeorm';
import { isEnvelope, type EventEnvelope, type EventLogger } from './envelope';
import { deadLetterKey, streamKey } from './streams';
import { StreamReader } from './stream-reader';

export interface DeliveredEvent {
  stream: string;
  entryId: string;
  event: EventEnvelope;
}

export interface StreamConsumerOptions {
  /** A connection of its own: XREADGROUP BLOCK holds it. The consumer closes it on stop. */
  redis: Redis;
  prefix: string;
  /** Domains to read, e.g. ['grant', 'request']. */
  domains: string[];
  group: string;
  consumer?: string;
  /** Handles a batch in order; throwing makes the consumer retry the batch one event at a time. */
  handleBatch: (events: EventEnvelope[]) => Promise<void>;
  /** Deliveries after which an event goes to the dead-letter stream. */
  maxDeliveries?: number;
  /** How long an entry may stay unacknowledged before another consumer takes it over. */
  claimIdleMs?: number;
  blockMs?: number;
  batchSize?: number;
  logger?: EventLogger;
  /**
   * Why an event is not one this consumer may read (undeclared type or version, data
   * of another shape), or undefined. Such an event goes to the dead-letter stream at
   * once with that reason: retrying cannot make it valid.
   */
  validate?: (event: EventEnvelope) => string | undefined;
  /** Told of every event moved to the dead-letter stream (for a metric). */
  onDeadLetter?: (cause: DeadLetterCause) => void;
}

/** Why an entry was dead-lettered: not an envelope, invalid by the contracts, or failing too often. */
export type DeadLetterCause = 'malformed' | 'invalid' | 'failing';

type Entry = [id: string, fields: string[]];

/**
 * A hash: consumer group → entries it moved to the dead-letter stream. Operators
 * reset a group's count (HDEL) once its dead letters are dealt with.
 */
export function deadLetterCountKey(prefix: string): string {
  return `${prefix}events:dead-lettered`;
}

/**
 * A consumer-group reader: acknowledge after processing, reclaim entries left
 * pending by dead consumers (XAUTOCLAIM), and move an entry that keeps failing, or
 * that is not an event at all, to the dead-letter stream.
 */
export class StreamConsumer extends StreamReader {
  readonly consumer: string;
  private readonly keys: string[];
  private readonly maxDeliveries: number;
  private readonly claimIdleMs: number;
  private readonly blockMs: number;
  private readonly batchSize: number;
  private groupsReady = false;
  private lastClaim = 0;

  constructor(private readonly options: StreamConsumerOptions) {
    super(options.redis, options.logger, `stream consumer ${options.group}`);
    this.consumer = options.consumer || `${hostname()}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
    this.keys = options.domains.map((d) => streamKey(options.prefix, d));
    this.maxDeliveries = options.maxDeliveries ?? 5;
    this.claimIdleMs = options.claimIdleMs ?? 30_000;
    this.blockMs = options.blockMs ?? 2_000;
    this.batchSize = options.batchSize ?? 100;
  }

  protected override async step(): Promise<void> {
    if (!this.groupsReady) await this.ensureGroups();
    if (Date.now() - this.lastClaim >= Math.min(this.claimIdleMs, 5_000)) {
      this.lastClaim = Date.now();
      await this.reclaim();
    }
    const res = (await this.blocking(() =>
      this.options.redis.xreadgroup('GROUP', this.options.group, this.consumer, 'COUNT', this.batchSize, 'BLOCK', this.blockMs, 'STREAMS', ...this.keys, ...this.keys.map(() => '>')),
    )) as [string, Entry[]][] | null;
    if (res) await this.process(res, false);
  }

  protected override onFailure(err: unknown): void {
    // Redis restarted without persistence: the groups are gone with the streams.
    if (String(err).includes('NOGROUP')) this.groupsReady = false;
  }

  private async ensureGroups(): Promise<void> {
    for (const key of this.keys) {
      try {
        await this.options.redis.xgroup('CREATE', key, this.options.group, '0', 'MKSTREAM');
      } catch (err) {
        if (!String(err).includes('BUSYGROUP')) throw err;
      }
    }
    this.groupsReady = true;
  }

  private async reclaim(): Promise<void> {
    for (const key of this.keys) {
      let cursor = '0-0';
      do {
        const [next, entries] = (await this.options.redis.xautoclaim(key, this.options.group, this.consumer, this.claimIdleMs, cursor, 'COUNT', this.batchSize)) as [string, Entry[]];
        if (entries.length) await this.process([[key, entries]], true);
        cursor = next;
      } while (cursor !== '0-0' && this.running);
    }
  }

  /**
   * One handleBatch call for everything one read returned, whatever stream it came
   * from (one transaction instead of one per domain), then XACK per stream. When the
   * batch fails, each event is tried alone so one bad event holds up no other.
   */
  private async process(batches: [string, Entry[]][], claimed: boolean): Promise<void> {
    const ready: { key: string; id: string; event: EventEnvelope }[] = [];
    for (const [key, entries] of batches) {
      for (const [id, fields] of entries) {
        if (!fields) continue; // trimmed away while pending
        const event = entryEnvelope(fields);
        if (!event) {
          await this.deadLetter(key, id, fields, 'malformed', 'not an event envelope', 1);
          continue;
        }
        const invalid = this.options.validate?.(event);
        if (invalid) {
          await this.deadLetter(key, id, fields, 'invalid', `invalid event: ${invalid}`, 1);
          continue;
        }
        if (claimed) {
          const deliveries = await this.deliveries(key, id);
          if (deliveries > this.maxDeliveries) {
            await this.deadLetter(key, id, fields, 'failing', 'too many failed deliveries', deliveries);
            continue;
          }
        }
        ready.push({ key, id, event });
      }
    }
    if (!ready.length) return;
    try {
      await this.options.handleBatch(ready.map((r) => r.event));
      await this.ack(ready);
    } catch (err) {
      if (ready.length === 1) {
        this.options.logger?.warn({ err, eventId: ready[0].event.id, type: ready[0].event.type }, 'event handling failed; it stays pending for a retry');
        return;
      }
      for (const r of ready) await this.process([[r.key, [[r.id, ['event', JSON.stringify(r.event)]]]]], false);
    }
  }

  private async ack(done: { key: string; id: string }[]): Promise<void> {
    const byKey = new Map<string, string[]>();
    for (const d of done) {
      const ids = byKey.get(d.key);
      if (ids) ids.push(d.id);
      else byKey.set(d.key, [d.id]);
    }
    await Promise.all([...byKey].map(([key, ids]) => this.options.redis.xack(key, this.options.group, ...ids)));
  }

  private async deliveries(key: string, id: string): Promise<number> {
    const rows = (await this.options.redis.xpending(key, this.options.group, id, id, 1)) as [string, string, number, number][];
    return rows[0]?.[3] ?? 1;
  }

  private async deadLetter(key: string, id: string, fields: string[], cause: DeadLetterCause, reason: string, deliveries: number): Promise<void> {
    this.options.logger?.error({ stream: key, entryId: id, reason, group: this.options.group }, 'event moved to the dead-letter stream');
    this.options.onDeadLetter?.(cause);
    await this.options.redis.xadd(deadLetterKey(this.options.prefix), '*', 'stream', key, 'entryId', id, 'group', this.options.group, 'reason', reason, 'deliveries', String(deliveries), ...fields);
    // Counted per group where every replica (and readiness) can see it, across restarts.
    await this.options.redis.hincrby(deadLetterCountKey(this.options.prefix), this.options.group, 1);
    await this.options.redis.xack(key, this.options.group, id);
  }
}

/** The envelope a stream entry carries (its `event` field), or null when it carries none that parses. */
export function entryEnvelope(fields: string[]): EventEnvelope | null {
  const i = fields.indexOf('event');
  if (i < 0 || i % 2 !== 0) return null;
  try {
    const value: unknown = JSON.parse(fields[i + 1]);
    return isEnvelope(value) ? value : null;
  } catch {
    return null;
  }
}

/**
 * Wraps a handler so each event has its effect once per consumer group, however
 * often it is delivered: the dedupe row and the effect commit together.
 */
export function idempotent(dataSource: DataSource, group: string, handle: (events: EventEnvelope[], manager: EntityManager) => Promise<void>): (events: EventEnvelope[]) => Promise<void> {
  return (events) =>
    dataSource.transaction(async (manager) => {
      const ids = [...new Set(events.map((e) => e.id))];
      const fresh: { event_id: string }[] = await manager.query(
        `INSERT INTO processed_event (id, consumer_group, event_id, created_at, updated_at)
         SELECT gen_random_uuid(), $1, x, now(), now() FROM unnest($2::uuid[]) AS x
         ON CONFLICT (consumer_group, event_id) DO NOTHING RETURNING event_id`,
        [group, ids],
      );
      const freshIds = new Set(fresh.map((r) => r.event_id));
      const todo = events.filter((e) => freshIds.delete(e.id));
      if (todo.length) await handle(todo, manager);
    });
}
