import { appendToOutbox, idempotent, type EventEnvelope } from '@gdx/events';
import type { App } from '@gdx/service-kit';
import type { GrantService } from './grant.service';

export const CONSUMER_GROUP = 'request-approval';

/**
 * A deprecated resource stops flowing: its grants are revoked. The dedupe row, the
 * revocations and their grant events commit together, so a redelivered
 * `resource.deprecated` changes nothing and a crash in between loses nothing.
 */
export function addResourceDeprecatedConsumer(app: App, grants: GrantService) {
  const handle = idempotent(app.db, CONSUMER_GROUP, async (events: EventEnvelope[], manager) => {
    const out: EventEnvelope[] = [];
    for (const e of events) {
      if (e.type !== 'resource.deprecated') continue;
      const code = (e.data as { code?: unknown }).code;
      if (typeof code !== 'string' || !code) continue; // nothing to act on; the catalogue's event is malformed
      await grants.revokeForResource(manager, (ev) => out.push(ev), code, `resource ${code} deprecated`, e.traceparent);
    }
    await appendToOutbox(manager, out);
  });
  return app.addConsumer({
    domains: ['resource'],
    group: CONSUMER_GROUP,
    handleBatch: async (events) => {
      await handle(events);
      app.relay.kick();
    },
  });
}
