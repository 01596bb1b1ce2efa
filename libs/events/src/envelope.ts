import { randomPool, uuidv7 } from '@gdx/database';

export interface Actor {
  unitId?: string;
  accountId?: string;
  clientId?: string;
  /** `system` for what the platform does on its own (expiry, deadlines). */
  kind: 'account' | 'client' | 'system' | 'anonymous';
}

/** The event envelope of the design card §3. */
export interface EventEnvelope<D = Record<string, unknown>> {
  id: string;
  type: string;
  occurredAt: string;
  actor: Actor;
  subject: string;
  data: D;
  traceparent: string;
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** A W3C traceparent header worth passing on (version 00, well formed), else undefined. */
export function wellFormedTraceparent(value: unknown): string | undefined {
  return typeof value === 'string' && TRACEPARENT.test(value) ? value : undefined;
}

/** A child of `parent` (same trace, new span) or a new trace when there is none or it is malformed. */
export function childTraceparent(parent?: string): string {
  const m = parent ? TRACEPARENT.exec(parent) : null;
  const traceId = m && !/^0+$/.test(m[1]) ? m[1] : randomPool.take(16).toString('hex');
  return `00-${traceId}-${randomPool.take(8).toString('hex')}-${m ? m[3] : '01'}`;
}

export function createEvent<D extends Record<string, unknown>>(type: string, init: { actor: Actor; subject: string; data: D; traceparent?: string; occurredAt?: Date }): EventEnvelope<D> {
  if (!/^[a-z][a-z-]*\.[a-z][a-z_.-]*$/.test(type)) throw new Error(`bad event type ${type}`);
  return {
    id: uuidv7(),
    type,
    occurredAt: (init.occurredAt ?? new Date()).toISOString(),
    actor: init.actor,
    subject: init.subject,
    data: init.data,
    traceparent: childTraceparent(init.traceparent),
  };
}

export function isEnvelope(value: unknown): value is EventEnvelope {
  const v = value as EventEnvelope;
  return !!v && typeof v === 'object' && typeof v.id === 'string' && typeof v.type === 'string' && typeof v.occurredAt === 'string' && typeof v.subject === 'string' && !!v.actor && typeof v.data === 'object';
}

/** The little of a logger the event machinery needs (pino and fastify's logger both fit). */
export interface EventLogger {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}
