import { randomFillSync } from 'node:crypto';
import type { Redis } from 'ioredis';
import { streamKey, type Actor, type EventEnvelope } from '@gdx/events';
import { ServiceUnavailableError } from '@gdx/errors';

export interface QueryAuditData extends Record<string, unknown> {
  unitId: string;
  accountId?: string;
  clientId?: string;
  grantId: string | null;
  resourceCode: string;
  providerUnitId: string | null;
  mode: 'interface';
  items: string[];
  rowCount: number;
  result: 'allowed' | 'denied';
  reason?: string;
  status: number;
  latencyMs: number;
  requestId: string;
  sourceAddress: string;
  peerAddress: string;
  via: 'data-query';
}

interface Waiter {
  payload: string;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * One entry per event, as XADD would write it, for a whole batch in one command:
 * one round trip and one reply for every event the current turn produced.
 */
const XADD_ALL = `
for i = 1, #ARGV - 1 do
  redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[#ARGV], '*', 'event', ARGV[i])
end
return #ARGV - 1`;

/**
 * Random bytes drawn from a buffer refilled 8 KiB at a time: one getrandom call
 * per ~170 events instead of three per event, which on the query path is the
 * difference between a few and twenty-odd microseconds.
 */
class RandomPool {
  private buf = Buffer.alloc(8192);
  private off = this.buf.length;

  take(n: number): Buffer {
    if (this.off + n > this.buf.length) {
      randomFillSync(this.buf);
      this.off = 0;
    }
    const out = Buffer.from(this.buf.subarray(this.off, this.off + n));
    this.off += n;
    return out;
  }
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** The envelope `createEvent` of @gdx/events builds (UUIDv7 id, child traceparent), with ids from the pool. */
export function auditEnvelope<D extends Record<string, unknown>>(random: RandomPool, type: string, actor: Actor, subject: string, data: D, parent?: string): EventEnvelope<D> {
  const now = Date.now();
  const b = random.take(24);
  b.writeUIntBE(now, 0, 6);
  b[6] = (b[6] & 0x0f) | 0x70;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = b.toString('hex', 0, 16);
  const m = parent ? TRACEPARENT.exec(parent) : null;
  const traceId = m && !/^0+$/.test(m[1]) ? m[1] : random.take(16).toString('hex');
  return {
    id: `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`,
    type,
    occurredAt: new Date(now).toISOString(),
    actor,
    subject,
    data,
    traceparent: `00-${traceId}-${b.toString('hex', 16, 24)}-${m ? m[3] : '01'}`,
  };
}

type ScriptRedis = Redis & { gdxXaddAll(key: string, ...args: (string | number)[]): Promise<number> };

/**
 * Writes audit events straight to the `query` stream, not through the outbox:
 * a query must not wait for a PostgreSQL commit, yet its record must exist before
 * the answer leaves. Events gather while a write is outstanding (and within one
 * turn of the event loop) and go to Redis together: one script call appending
 * one stream entry per event, which keeps the trail off the hot path's cost
 * (about 12 events per write under benchmark load). If Redis does not take
 * them (down, slower than the command timeout, connection closed) every one of
 * those callers gets 503 and no data: fail closed.
 */
export class AuditEmitter {
  private readonly key: string;
  private readonly redis: ScriptRedis;
  private readonly random = new RandomPool();
  private queue: Waiter[] = [];
  private scheduled = false;
  private inFlight = 0;
  /** Events written and script calls made: their ratio is the batching achieved. */
  readonly stats = { events: 0, calls: 0 };

  /**
   * `maxInFlight` script calls at a time: while they run, new events gather and
   * leave together when one returns, so under load each write to Redis carries
   * many events (on a VM every write that wakes another process is dear).
   */
  constructor(redis: Redis, prefix: string, private readonly maxInFlight = 1, private readonly maxLen = 1_000_000, private readonly maxBatch = 500) {
    this.key = streamKey(prefix, 'query');
    redis.defineCommand('gdxXaddAll', { numberOfKeys: 1, lua: XADD_ALL });
    this.redis = redis as ScriptRedis;
  }

  /** Resolves once the event is in the stream; rejects with 503 AUDIT_UNAVAILABLE otherwise. */
  emit(type: 'query.executed' | 'query.denied', actor: Actor, subject: string, data: QueryAuditData, traceparent?: string): Promise<void> {
    const payload = JSON.stringify(auditEnvelope(this.random, type, actor, subject, data, traceparent));
    return new Promise((resolve, reject) => {
      this.queue.push({ payload, resolve, reject });
      if (!this.scheduled && this.inFlight < this.maxInFlight) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Closes the connection (shutdown; tests use it to take the trail away). */
  close(): void {
    this.redis.disconnect();
  }

  private flush(): void {
    this.scheduled = false;
    while (this.queue.length && this.inFlight < this.maxInFlight) {
      const batch = this.queue.splice(0, this.maxBatch);
      this.inFlight++;
      this.stats.calls++;
      this.stats.events += batch.length;
      this.redis
        .gdxXaddAll(this.key, ...batch.map((w) => w.payload), this.maxLen)
        .then(
          () => {
            for (const w of batch) w.resolve();
          },
          () => {
            const err = new ServiceUnavailableError('The audit trail is not accepting records, so no data is released; try again shortly.', 'AUDIT_UNAVAILABLE');
            for (const w of batch) w.reject(err);
          },
        )
        .finally(() => {
          this.inFlight--;
          if (this.queue.length) this.flush();
        });
    }
  }
}
