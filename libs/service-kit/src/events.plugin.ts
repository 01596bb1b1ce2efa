import fp from 'fastify-plugin';
import { Counter, Gauge } from 'prom-client';
import { checkEvent } from '@gdx/contracts';
import { EventPublisher, OutboxRelay, OutboxWriter, StreamConsumer, type StreamConsumerOptions } from '@gdx/events';

/**
 * A consumer group reader as a service registers it. Incoming events are checked
 * against the event catalogue (`checkEvent`) unless `validate` says otherwise: the
 * audit trail, which must keep whatever reaches it, passes `false`.
 */
export type ConsumerOptions = Omit<StreamConsumerOptions, 'redis' | 'prefix' | 'logger' | 'validate' | 'onDeadLetter'> & { validate?: StreamConsumerOptions['validate'] | false };

declare module 'fastify' {
  interface FastifyInstance {
    events: EventPublisher;
    relay: OutboxRelay;
    /** Records facts that have no transaction of their own (answered queries, call records) in the outbox, batched. */
    outboxWriter: OutboxWriter;
    /** Registers a consumer group reader; it starts when the app is ready and stops before the connections close. */
    addConsumer: (options: ConsumerOptions) => StreamConsumer;
  }
}

export interface EventsPluginOptions {
  relayPollMs?: number;
  relayCheckMs?: number;
  outboxRetentionMs?: number;
  consumerName?: string;
}

export const eventsPlugin = fp<EventsPluginOptions>(
  async (app, options) => {
    const publisher = new EventPublisher(app.db);
    const relay = new OutboxRelay(app.db, app.redis, {
      prefix: app.streamPrefix,
      pollMs: options.relayPollMs,
      checkMs: options.relayCheckMs,
      retentionMs: options.outboxRetentionMs,
      logger: app.log.child({ component: 'outbox-relay' }),
    });
    publisher.setListener(relay);
    const writer = new OutboxWriter(app.db, relay);
    // A dead-lettered event is an alarm: operators watch this counter.
    const deadLettered = new Counter({
      name: 'gdx_events_dead_lettered_total',
      help: 'Events moved to the dead-letter stream, by consumer group and cause (malformed, invalid, failing)',
      labelNames: ['group', 'cause'],
      registers: [app.metrics],
    });
    // What the relay has not published yet, and how long the oldest has waited: operators alert on a backlog.
    // One query serves both gauges of a scrape; -1 when PostgreSQL does not answer.
    let pending: Promise<{ n: number; age: number }> | undefined;
    const backlog = () =>
      (pending ??= app.db
        .query<{ n: number; age: number | null }[]>(`SELECT count(*)::int AS n, extract(epoch FROM now() - min(created_at))::float8 AS age FROM outbox WHERE published_at IS NULL`)
        .then(([r]) => ({ n: r.n, age: r.age ?? 0 }))
        .catch(() => ({ n: -1, age: -1 }))
        .finally(() => (pending = undefined)));
    new Gauge({
      name: 'gdx_outbox_pending',
      help: 'Outbox rows not yet published to Redis',
      registers: [app.metrics],
      async collect() {
        this.set((await backlog()).n);
      },
    });
    new Gauge({
      name: 'gdx_outbox_oldest_pending_seconds',
      help: 'Age of the oldest outbox row not yet published (0 when none)',
      registers: [app.metrics],
      async collect() {
        this.set((await backlog()).age);
      },
    });
    const consumers: StreamConsumer[] = [];
    app.decorate('events', publisher);
    app.decorate('relay', relay);
    app.decorate('outboxWriter', writer);
    app.decorate('addConsumer', ({ validate, ...o }: ConsumerOptions) => {
      const c = new StreamConsumer({
        consumer: options.consumerName || undefined,
        ...o,
        validate: validate === false ? undefined : (validate ?? checkEvent),
        onDeadLetter: (cause) => deadLettered.inc({ group: o.group, cause }),
        redis: app.newRedis(),
        prefix: app.streamPrefix,
        logger: app.log.child({ component: 'consumer', group: o.group }),
      });
      consumers.push(c);
      return c;
    });
    app.addHook('onReady', async () => {
      relay.start();
      for (const c of consumers) c.start();
    });
    // preClose: stop reading and publishing while PostgreSQL and Redis are still there.
    app.addHook('preClose', async () => {
      await Promise.all([relay.stop(), ...consumers.map((c) => c.stop())]);
    });
  },
  { name: 'gdx-events', fastify: '5.x', dependencies: ['gdx-database', 'gdx-redis', 'gdx-metrics'] },
);
