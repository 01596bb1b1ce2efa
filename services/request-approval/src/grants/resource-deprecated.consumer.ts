import type { EntityManager } from 'typeorm';
import { eventHandlers, type DeclaredEvent } from '@gdx/contracts';
import { appendToOutbox, idempotent } from '@gdx/events';
import type { App } from '@gdx/service-kit';
import type { GrantService } from './grant.service';
import { recordBatch } from '../cases/known-batches';

export const CONSUMER_GROUP = 'request-approval';

/**
 * What this service takes from other services' streams. A deprecated resource stops flowing: its grants are revoked. The dedupe row, the
 * revocations and their grant events commit together, so a redelivered
 * `resource.deprecated` changes nothing and a crash in between loses nothing.
 * Events arrive checked against the catalogue (addConsumer validates them), so the
 * handler reads the resource view as declared. Accepted data batches (`data.updated`) are
 * noted, so an objection answered `corrected` can be checked against them.
 */
export function addResourceDeprecatedConsumer(app: App, grants: GrantService) {
  const dispatch = eventHandlers<{ manager: EntityManager; out: DeclaredEvent[] }>({
    'resource.deprecated': (e, { manager, out }) => grants.revokeForResource(manager, (ev) => out.push(ev), e.data.code, `resource ${e.data.code} deprecated`, e.traceparent),
    'data.updated': (e, { manager }) => recordBatch(manager, e),
  });
  const handle = idempotent(app.db, CONSUMER_GROUP, async (events, manager) => {
    const out: DeclaredEvent[] = [];
    await dispatch(events, { manager, out });
    await appendToOutbox(manager, out);
  });
  return app.addConsumer({
    domains: ['resource', 'data'],
    group: CONSUMER_GROUP,
    handleBatch: async (events) => {
      await handle(events);
      app.relay.kick();
    },
  });
}
