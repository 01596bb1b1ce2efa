import type { DataSource } from 'typeorm';
import type { DeclaredEvent } from '@gdx/contracts';
import type { OutboxListener } from './event-publisher';

interface Waiter {
  event: DeclaredEvent;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** The outbox rows of a batch in one statement: arrays in, one row each out. */
const INSERT = `INSERT INTO outbox (id, type, envelope, created_at, updated_at)
  SELECT t.id, t.type, t.envelope, now(), now() FROM unnest($1::uuid[], $2::text[], $3::text[]) AS t(id, type, envelope)`;

/**
 * Puts facts with no database write of their own to ride on (an answered or refused query, a
 * call the gateway answered) into the outbox, so they are in PostgreSQL before the answer
 * leaves: Redis is the transport, not the record (a Redis restarted empty loses nothing the
 * relay has not seen acknowledged). Events that arrive while a write is outstanding (or within
 * one turn of the event loop) are inserted together by one statement, one commit. Each
 * caller's promise settles when its own row is committed, or rejects when it is not, so the
 * caller can fail closed.
 */
export class OutboxWriter {
  private queue: Waiter[] = [];
  private scheduled = false;
  private inFlight = 0;
  private closed = false;
  /** Events written and statements run: their ratio is the batching achieved. */
  readonly stats = { events: 0, calls: 0 };

  constructor(
    private readonly dataSource: DataSource,
    private readonly listener: OutboxListener,
    private readonly options: { maxInFlight?: number; maxBatch?: number; /** Callers give up (reject) after this long; the row may still commit. */ timeoutMs?: number } = {},
  ) {}

  publish(event: DeclaredEvent): Promise<void> {
    if (this.closed) return Promise.reject(new Error('the outbox writer is closed'));
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ event, resolve, reject });
      if (!this.scheduled && this.inFlight < (this.options.maxInFlight ?? 4)) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Refuses what comes after (tests use it to take the record away: every caller then fails closed); what was queued is still written. */
  close(): void {
    this.closed = true;
  }

  private flush(): void {
    this.scheduled = false;
    while (this.queue.length && this.inFlight < (this.options.maxInFlight ?? 4)) {
      const batch = this.queue.splice(0, this.options.maxBatch ?? 500);
      this.inFlight++;
      this.stats.calls++;
      this.stats.events += batch.length;
      this.withDeadline(this.dataSource.query(INSERT, [batch.map((w) => w.event.id), batch.map((w) => w.event.type), batch.map((w) => JSON.stringify(w.event))]))
        .then(
          () => {
            batch.forEach((w) => w.resolve());
            this.listener.kick();
          },
          (err: unknown) => batch.forEach((w) => w.reject(err)),
        )
        .finally(() => {
          this.inFlight--;
          if (this.queue.length) this.flush();
        });
    }
  }

  /** One timer per statement, not per event: the hot path stays cheap. */
  private withDeadline<T>(work: Promise<T>): Promise<T> {
    const ms = this.options.timeoutMs;
    if (!ms) return work;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`the outbox did not take the events within ${ms} ms`)), ms);
    });
    return Promise.race([work, late]).finally(() => clearTimeout(timer));
  }
}
