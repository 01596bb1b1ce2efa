import type { OutboxWriter } from '@gdx/events';
import { createEvent, type Actor, type EventData } from '@gdx/contracts';
import { ServiceUnavailableError } from '@gdx/errors';

/** The two outcomes of an interface query; both carry the same data. */
export type QueryAuditType = 'query.executed' | 'query.denied';

/**
 * Puts query audit events in the outbox before the answer leaves (batched: the events of
 * concurrent queries share one insert and one commit), so a query's record survives whatever
 * happens to Redis afterwards. If PostgreSQL does not take an event the caller gets 503 and no
 * data: fail closed.
 */
export class AuditEmitter {
  constructor(private readonly publisher: OutboxWriter) {}

  /** Events written and inserts made: their ratio is the batching achieved. */
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

  /** Refuses every record from now on (tests use it to take the trail away). */
  close(): void {
    this.publisher.close();
  }
}
