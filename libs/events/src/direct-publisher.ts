import type { Redis } from 'ioredis';
import type { EventEnvelope } from './envelope';
import { domainOf, streamKey } from './streams';

/**
 * Publishes an event straight to its stream, bypassing the outbox: for facts that
 * have no database write to ride on (an answered query) and must be on the record
 * before the response leaves. It throws when Redis does not take the event, so the
 * caller can fail closed.
 */
export async function publishNow(redis: Redis, prefix: string, event: EventEnvelope, maxStreamLength = 1_000_000): Promise<string> {
  const id = await redis.xadd(streamKey(prefix, domainOf(event.type)), 'MAXLEN', '~', maxStreamLength, '*', 'event', JSON.stringify(event));
  if (!id) throw new Error('the event was not stored');
  return id;
}
