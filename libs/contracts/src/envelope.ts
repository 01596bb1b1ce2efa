import { Type, type Static } from '@sinclair/typebox';
import { randomPool } from '@gdx/database';
import { ACTOR_KINDS, StringEnum } from './enums';

export const ActorSchema = Type.Object({
  unitId: Type.Optional(Type.String()),
  accountId: Type.Optional(Type.String()),
  clientId: Type.Optional(Type.String()),
  /** `system` for what the platform does on its own (expiry, deadlines). */
  kind: StringEnum(ACTOR_KINDS),
});
export type Actor = Static<typeof ActorSchema>;

/** The event envelope of the design card §3. `version` is the data schema's version in the event catalogue. */
export interface EventEnvelope<T extends string = string, D = Record<string, unknown>> {
  id: string;
  type: T;
  version?: number;
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

export const EVENT_TYPE_PATTERN = /^[a-z][a-z-]*\.[a-z][a-z_.-]*$/;

export function isEnvelope(value: unknown): value is EventEnvelope {
  const v = value as EventEnvelope;
  return (
    !!v &&
    typeof v === 'object' &&
    typeof v.id === 'string' &&
    typeof v.type === 'string' &&
    typeof v.occurredAt === 'string' &&
    typeof v.subject === 'string' &&
    !!v.actor &&
    typeof v.actor === 'object' &&
    !!v.data &&
    typeof v.data === 'object'
  );
}

/** Events of a type `grant.issued` travel on the stream of their domain, `grant`. */
export function domainOf(type: string): string {
  return type.split('.')[0];
}
