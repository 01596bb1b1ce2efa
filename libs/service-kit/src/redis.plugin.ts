import fp from 'fastify-plugin';
import { Redis, type RedisOptions } from 'ioredis';

declare module 'fastify' {
  interface FastifyInstance {
    redis: Redis;
    /** A new connection with the same settings, for work that blocks (XREADGROUP). The caller closes it. */
    newRedis: () => Redis;
    streamPrefix: string;
  }
}

export interface RedisPluginOptions {
  url: string;
  prefix: string;
}

/**
 * Commands fail fast while Redis is away (no offline queue) so callers can decide:
 * the relay retries later, readiness reports not ready, quotas fail closed.
 */
export function redisOptions(): RedisOptions {
  return {
    lazyConnect: true,
    enableOfflineQueue: false,
    // Concurrent requests' commands (quota counters, audit XADDs) share round trips.
    enableAutoPipelining: true,
    maxRetriesPerRequest: 1,
    connectTimeout: 2_000,
    retryStrategy: (times) => Math.min(times * 100, 2_000),
  };
}

export const redisPlugin = fp<RedisPluginOptions>(
  async (app, { url, prefix }) => {
    const redis = new Redis(url, redisOptions());
    redis.on('error', () => undefined); // reconnects on its own; readiness reports the outage
    await redis.connect().catch((err: unknown) => app.log.warn({ err }, 'redis not reachable at start; retrying in the background'));
    app.decorate('redis', redis);
    app.decorate('streamPrefix', prefix);
    app.decorate('newRedis', () => {
      const r = new Redis(url, { ...redisOptions(), lazyConnect: false, enableOfflineQueue: true, maxRetriesPerRequest: null });
      r.on('error', () => undefined);
      return r;
    });
    app.addHook('onClose', async () => {
      redis.disconnect();
    });
  },
  { name: 'gdx-redis', fastify: '5.x' },
);
