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

/** Where Redis is: a URL, or Sentinels that name the master of a group (the URL then gives only the password and database). */
export interface RedisTarget {
  redisUrl: string;
  redisSentinels?: string;
  redisSentinelName?: string;
}

export interface RedisPluginOptions {
  target: RedisTarget;
  prefix: string;
}

/**
 * A Redis client for the target: straight to redisUrl, or through Redis Sentinel, which hands
 * ioredis the current master and, after a failover, the new one (ioredis reconnects by itself).
 */
export function createRedis(target: RedisTarget, options: RedisOptions): Redis {
  const sentinels = (target.redisSentinels ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => {
      const at = s.lastIndexOf(':');
      return { host: s.slice(0, at), port: Number(s.slice(at + 1)) };
    });
  if (!sentinels.length) return new Redis(target.redisUrl, options);
  const url = new URL(target.redisUrl);
  const db = Number(url.pathname.slice(1) || 0);
  return new Redis({
    ...options,
    sentinels,
    name: target.redisSentinelName ?? 'mymaster',
    ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
    ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
    ...(Number.isInteger(db) && db > 0 ? { db } : {}),
  });
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
  async (app, { target, prefix }) => {
    const redis = createRedis(target, redisOptions());
    redis.on('error', () => undefined); // reconnects on its own; readiness reports the outage
    await redis.connect().catch((err: unknown) => app.log.warn({ err }, 'redis not reachable at start; retrying in the background'));
    app.decorate('redis', redis);
    app.decorate('streamPrefix', prefix);
    app.decorate('newRedis', () => {
      const r = createRedis(target, { ...redisOptions(), lazyConnect: false, enableOfflineQueue: true, maxRetriesPerRequest: null });
      r.on('error', () => undefined);
      return r;
    });
    app.addHook('onClose', async () => {
      redis.disconnect();
    });
  },
  { name: 'gdx-redis', fastify: '5.x' },
);
