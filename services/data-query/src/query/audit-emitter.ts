import type { Redis } from 'ioredis';
import { BatchedPublisher } from '@gdx/events';
import { createEvent, type Actor, type EventData } from '@gdx/contracts';
import { ServiceUnavailableError } from '@gdx/errors';

/** The two outcomes of an interface query; both carry the same data. */
export type QueryAuditType = 'query.executed' | 'query.denied';

/**
 * Writes query audit events straight to the `query` stream, not through the outbox:
 * a query must not wait for a PostgreSQL commit, yet its record must exist before
 * the answer leaves. If Redis does not take an event (down, connection closed) the
 * caller gets 503 and no data: fail closed.
 */
export class AuditEmitter {
  private readonly publisher: BatchedPublisher;
  private closed = false;

  /** `maxInFlight` writes at a time: while they run, new events gather and leave together when one returns. */
  constructor(
    private readonly redis: Redis,
    prefix: string,
    maxInFlight = 1,
  ) {
    this.publisher = new BatchedPublisher(redis, prefix, 'query', { maxInFlight });
  }

  /** Events written and script calls made: their ratio is the batching achieved. */
  get stats(): { events: number; calls: number } {
    return this.publisher.stats;
  }

  /** Resolves once the event is in the stream; rejects with 503 AUDIT_UNAVAILABLE otherwise. */
  async emit(type: QueryAuditType, actor: Actor, subject: string, data: EventData<QueryAuditType>, traceparent?: string): Promise<void> {
    try {
      await this.publisher.publish(createEvent(type, { actor, subject, data, traceparent }));
    } catch {
      throw new ServiceUnavailableError('The audit trail is not accepting records, so no data is released; try again shortly.', 'AUDIT_UNAVAILABLE');
    }
  }

  /** Closes the connection (shutdown; tests use it to take the trail away). */
  close(): void {
    // Once only: disconnecting a closed connection leaves a 2 s timer behind.
    if (this.closed) return;
    this.closed = true;
    this.redis.disconnect();
  }
}
