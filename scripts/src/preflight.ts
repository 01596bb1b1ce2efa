import { Client } from 'pg';
import { Redis } from 'ioredis';
import { startupFailure } from '@gdx/service-kit';

/**
 * Before `npm start` migrates anything: are PostgreSQL and Redis there? Answers what to tell
 * the user (the address tried, the variable that names it, how to start one), or undefined.
 */
export async function preflight(databaseUrl: string, redisUrl: string): Promise<string | undefined> {
  const admin = new URL(databaseUrl);
  admin.pathname = '/postgres';
  const pg = new Client({ connectionString: admin.toString(), connectionTimeoutMillis: 3_000 });
  try {
    await pg.connect();
  } catch (err) {
    return startupFailure(err, { databaseUrl });
  } finally {
    await pg.end().catch(() => undefined);
  }
  const redis = new Redis(redisUrl, { lazyConnect: true, connectTimeout: 3_000, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  // connect() itself only says "Connection is closed"; the socket's own error says why.
  let cause: unknown;
  redis.on('error', (err) => (cause ??= err));
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    return startupFailure(cause ?? err, { databaseUrl, redisUrl });
  } finally {
    redis.disconnect();
  }
  return undefined;
}
