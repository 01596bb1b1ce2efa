// The envelope is part of the contracts between services; the transport only carries it.
export { childTraceparent, isEnvelope, wellFormedTraceparent, type Actor, type EventEnvelope } from '@gdx/contracts';

/** The little of a logger the event machinery needs (pino and fastify's logger both fit). */
export interface EventLogger {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}
