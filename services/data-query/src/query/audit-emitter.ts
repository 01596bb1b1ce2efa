import type { Redis } from 'ioredis';
import { createEvent, streamKey, type Actor } from '@gdx/events';
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

/**
 * Writes audit events straight to the `query` stream, not through the outbox:
 * a query must not wait for a PostgreSQL commit, yet its record must exist before
 * the answer leaves. If Redis does not take the event (down, slow beyond the
 * command timeout, connection closed) the caller gets 503 and no data: fail closed.
 */
export class AuditEmitter {
  private readonly key: string;

  constructor(private readonly redis: Redis, prefix: string, private readonly maxLen = 1_000_000) {
    this.key = streamKey(prefix, 'query');
  }

  async emit(type: 'query.executed' | 'query.denied', actor: Actor, subject: string, data: QueryAuditData, traceparent?: string): Promise<void> {
    const event = createEvent(type, { actor, subject, data, traceparent });
    try {
      await this.redis.xadd(this.key, 'MAXLEN', '~', this.maxLen, '*', 'event', JSON.stringify(event));
    } catch {
      throw new ServiceUnavailableError('The audit trail is not accepting records, so no data is released; try again shortly.', 'AUDIT_UNAVAILABLE');
    }
  }

  /** Closes the connection (shutdown; tests use it to take the trail away). */
  close(): void {
    this.redis.disconnect();
  }
}
