import type { Redis } from 'ioredis';
import type { DeclaredEvent } from '@gdx/contracts';
import { streamKey } from './streams';

/** One stream entry per event, as XADD would write it, for a whole batch in one command. */
const XADD_ALL = `
for i = 1, #ARGV - 1 do
  redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[#ARGV], '*', 'event', ARGV[i])
end
return #ARGV - 1`;

type ScriptRedis = Redis & { gdxXaddAll(key: string, ...args: (string | number)[]): Promise<number> };

interface Waiter {
  payload: string;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * Publishes events straight to their stream, bypassing the outbox: for facts with no
 * database write to ride on (an answered or refused query) that must be on the record
 * before the response leaves. Events of one domain that arrive while a write is
 * outstanding (or within one turn of the event loop) go to Redis together in one
 * script call, one stream entry each. Each caller's promise settles when its own event
 * is stored, or rejects when Redis does not take it, so the caller can fail closed.
 */
export class BatchedPublisher {
  private readonly key: string;
  private readonly redis: ScriptRedis;
  private queue: Waiter[] = [];
  private scheduled = false;
  private inFlight = 0;
  /** Events written and script calls made: their ratio is the batching achieved. */
  readonly stats = { events: 0, calls: 0 };

  constructor(
    redis: Redis,
    prefix: string,
    domain: string,
    private readonly options: { maxInFlight?: number; maxStreamLength?: number; maxBatch?: number } = {},
  ) {
    this.key = streamKey(prefix, domain);
    redis.defineCommand('gdxXaddAll', { numberOfKeys: 1, lua: XADD_ALL });
    this.redis = redis as ScriptRedis;
  }

  publish(event: DeclaredEvent): Promise<void> {
    const payload = JSON.stringify(event);
    return new Promise((resolve, reject) => {
      this.queue.push({ payload, resolve, reject });
      if (!this.scheduled && this.inFlight < (this.options.maxInFlight ?? 1)) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    while (this.queue.length && this.inFlight < (this.options.maxInFlight ?? 1)) {
      const batch = this.queue.splice(0, this.options.maxBatch ?? 500);
      this.inFlight++;
      this.stats.calls++;
      this.stats.events += batch.length;
      this.redis
        .gdxXaddAll(this.key, ...batch.map((w) => w.payload), this.options.maxStreamLength ?? 1_000_000)
        .then(
          () => batch.forEach((w) => w.resolve()),
          (err: unknown) => batch.forEach((w) => w.reject(err)),
        )
        .finally(() => {
          this.inFlight--;
          if (this.queue.length) this.flush();
        });
    }
  }
}
