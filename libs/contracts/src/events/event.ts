import type { Static } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { uuidv7 } from '@gdx/database';
import { childTraceparent, EVENT_TYPE_PATTERN, isEnvelope, type Actor, type EventEnvelope } from '../envelope';
import { RowFilterSchema } from '../views/grant.view';
import { EVENT_CATALOGUE, type EventCatalogue, type EventType } from './event-catalogue';

/** The `data` of an event type, as its catalogue schema declares it. */
export type EventData<T extends EventType> = Static<EventCatalogue[T]['data']>;

/** An event of a declared type carrying that type's data. */
export type EventOf<T extends EventType> = EventEnvelope<T, EventData<T>>;

/** Any declared event: what publishers take and what the outbox stores. */
export type DeclaredEvent = { [T in EventType]: EventOf<T> }[EventType];

export interface EventInit<D> {
  actor: Actor;
  subject: string;
  data: D;
  traceparent?: string;
  occurredAt?: Date;
}

/**
 * Builds an event of a declared type: a type that is not in the catalogue, or data
 * of another shape, does not compile.
 */
export function createEvent<T extends EventType>(type: T, init: EventInit<EventData<T>>): EventOf<T> {
  return envelope(type, EVENT_CATALOGUE[type].version, init) as EventOf<T>;
}

/**
 * An event of any type and shape, checked by nobody: for tests of the transport and
 * of consumers' handling of bad input only. Services build events with `createEvent`
 * (a lint rule keeps this out of services/).
 */
export function untypedEvent(type: string, init: EventInit<Record<string, unknown>>): EventEnvelope {
  return envelope(type, undefined, init) as EventEnvelope;
}

function envelope(type: string, version: number | undefined, init: EventInit<unknown>): EventEnvelope<string, unknown> {
  if (!EVENT_TYPE_PATTERN.test(type)) throw new Error(`bad event type ${type}`);
  return {
    id: uuidv7(),
    type,
    ...(version !== undefined ? { version } : {}),
    occurredAt: (init.occurredAt ?? new Date()).toISOString(),
    actor: init.actor,
    subject: init.subject,
    data: init.data,
    traceparent: childTraceparent(init.traceparent),
  };
}

const checkers = new Map<string, TypeCheck<EventCatalogue[EventType]['data']>>();
function checkerOf(type: EventType): TypeCheck<EventCatalogue[EventType]['data']> {
  let c = checkers.get(type);
  if (!c) {
    c = TypeCompiler.Compile(EVENT_CATALOGUE[type].data, [RowFilterSchema]);
    checkers.set(type, c);
  }
  return c;
}

export function isDeclaredType(type: string): type is EventType {
  return Object.prototype.hasOwnProperty.call(EVENT_CATALOGUE, type);
}

/**
 * Why an incoming event is not one the catalogue declares (its type unknown, its
 * version another, its data of another shape), or undefined when it is. The reason
 * names the first failing field: it goes with the event to the dead-letter stream.
 */
export function checkEvent(event: unknown): string | undefined {
  if (!isEnvelope(event)) return 'not an event envelope';
  if (!isDeclaredType(event.type)) return `undeclared event type ${JSON.stringify(event.type).slice(0, 80)}`;
  const entry = EVENT_CATALOGUE[event.type];
  if (event.version !== undefined && event.version !== entry.version) return `${event.type} version ${String(event.version)} is not the declared version ${entry.version}`;
  const checker = checkerOf(event.type);
  if (checker.Check(event.data)) return undefined;
  const first = checker.Errors(event.data).First();
  return `${event.type} data${first ? `${first.path.replace(/\//g, '.')}: ${first.message}` : ' is invalid'}`;
}

/** A declared event of one of the types in T, narrowed: `event.type` tells `event.data` apart. */
export function isEventOf<T extends EventType>(event: EventEnvelope, ...types: T[]): event is EventOf<T> {
  return (types as string[]).includes(event.type);
}

export type EventHandlerMap<C> = { [T in EventType]?: (event: EventOf<T>, context: C) => unknown };

/**
 * A typed handler per event type, as one function over a consumer's batch: each
 * event goes to the handler of its type (in order), others are skipped. The events
 * were checked on arrival (`checkEvent`), so each handler reads its type's data.
 */
export function eventHandlers<C>(map: EventHandlerMap<C>): (events: readonly EventEnvelope[], context: C) => Promise<void> {
  return async (events, context) => {
    for (const e of events) {
      const handle = (map as Record<string, ((event: EventEnvelope, context: C) => unknown) | undefined>)[e.type];
      if (handle) await handle(e, context);
    }
  };
}
