import fp from 'fastify-plugin';
import { EventPublisher, OutboxRelay, StreamConsumer, type StreamConsumerOptions } from '@gdx/events';

declare module 'fastify' {
  interface FastifyInstance {
    events: EventPublisher;
    relay: OutboxRelay;
    /** Registers a consumer group reader; it starts when the app is ready and stops before the connections close. */
    addConsumer: (options: Omit<StreamConsumerOptions, 'redis' | 'prefix' | 'logger'>) => StreamConsumer;
  }
}

export interface EventsPluginOptions {
  relayPollMs?: number;
  consumerName?: string;
}

export const eventsPlugin = fp<EventsPluginOptions>(
  async (app, options) => {
    const publisher = new EventPublisher(app.db);
    const relay = new OutboxRelay(app.db, app.redis, { prefix: app.streamPrefix, pollMs: options.relayPollMs, logger: app.log.child({ component: 'outbox-relay' }) });
    publisher.setListener(relay);
    const consumers: StreamConsumer[] = [];
    app.decorate('events', publisher);
    app.decorate('relay', relay);
    app.decorate('addConsumer', (o: Omit<StreamConsumerOptions, 'redis' | 'prefix' | 'logger'>) => {
      const c = new StreamConsumer({ consumer: options.consumerName || undefined, ...o, redis: app.newRedis(), prefix: app.streamPrefix, logger: app.log.child({ component: 'consumer', group: o.group }) });
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
  { name: 'gdx-events', fastify: '5.x', dependencies: ['gdx-database', 'gdx-redis'] },
);
