import request from 'supertest';
import { Redis } from 'ioredis';
import { Client } from 'pg';
import { dependencyUnavailable } from '@gdx/errors';
import { freePort, startPlatform, type TestPlatform } from '../helpers/platform';
import { addUser, type TestUser } from '../helpers/gateway';
import { startOwnRedis, type OwnRedis } from '../helpers/redis-server';
import { eventually } from '../helpers/wait';

/**
 * Issue 17: while a dependency is down, a call that needs it answers 503 problem+json with
 * Retry-After, never 500. Seen before: request-approval started with Redis unreachable answered
 * GET /api/v1/grants/snapshot with 500 ("Stream isn't writeable…") over and over.
 */
let closedPort: number;
beforeAll(async () => {
  closedPort = await freePort();
});

describe('what counts as a dependency being away', () => {
  test('ioredis without its server, pg without its server, and PostgreSQL shutting down are; a bug and a refused value are not', async () => {
    const redis = new Redis(`redis://127.0.0.1:${closedPort}`, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1, retryStrategy: () => null });
    redis.on('error', () => undefined);
    const redisError = await redis.xrevrange('k', '+', '-').catch((e: unknown) => e);
    redis.disconnect();
    expect(String(redisError)).toMatch(/Stream isn't writeable/);
    expect(dependencyUnavailable(redisError)).toBe('redis');

    const pg = new Client({ connectionString: `postgres://postgres@127.0.0.1:${closedPort}/x`, connectionTimeoutMillis: 1000 });
    const pgError = await pg.connect().catch((e: unknown) => e);
    expect(dependencyUnavailable(pgError)).toBe('postgres');
    // TypeORM's wrapper of a server going down under a query.
    expect(dependencyUnavailable({ name: 'QueryFailedError', message: 'terminating connection due to administrator command', driverError: { code: '57P01' } })).toBe('postgres');
    expect(dependencyUnavailable(new Error('Connection terminated unexpectedly'))).toBe('postgres');

    expect(dependencyUnavailable(new TypeError("Cannot read properties of undefined (reading 'x')"))).toBeUndefined();
    expect(dependencyUnavailable({ code: '22P02', message: 'invalid input syntax for type uuid' })).toBeUndefined();
    expect(dependencyUnavailable(null)).toBeUndefined();
  });
});

describe('a service whose Redis goes away', () => {
  let platform: TestPlatform;
  let own: OwnRedis;
  let office: TestUser;
  let unit: TestUser;
  let readyAtOnce: { statusCode: number; body: string };
  beforeAll(async () => {
    own = await startOwnRedis();
    platform = await startPlatform(['request-approval'], { config: { 'request-approval': { redisUrl: own.url, redisReadinessGraceMs: 1_500 } } });
    office = await addUser(platform.gateway, 'OFFICE', ['office_admin']);
    unit = await addUser(platform.gateway, 'RS', ['unit_admin']);
    // Up and serving (token revocations loaded from Redis) before Redis goes.
    await eventually(
      async () => (await request(platform.gatewayUrl).get('/api/v1/grants/snapshot').set('authorization', `Bearer ${office.token}`)).status === 200,
      15_000,
      'request-approval to serve',
    );
    await own.kill();
    readyAtOnce = await platform.services['request-approval']!.inject({ method: 'GET', url: '/health/ready' });
  });
  afterAll(async () => {
    await platform?.close();
    await own?.stop();
  });

  test('answers the grant snapshot with 503 DEPENDENCY_UNAVAILABLE and Retry-After (was 500 "Stream isn\'t writeable"), revealing nothing, every time', async () => {
    for (let i = 0; i < 3; i++) {
      const res = await request(platform.gatewayUrl).get('/api/v1/grants/snapshot').set('authorization', `Bearer ${office.token}`);
      expect({ status: res.status, type: res.headers['content-type'], retryAfter: res.headers['retry-after'], code: res.body.code }).toEqual({
        status: 503,
        type: expect.stringMatching(/^application\/problem\+json/),
        retryAfter: '5',
        code: 'DEPENDENCY_UNAVAILABLE',
      });
      expect(JSON.stringify(res.body)).not.toMatch(/Stream|writeable|ioredis|127\.0\.0\.1/);
    }
  });

  test('a blip keeps it ready with a warning; past redisReadinessGraceMs it is not ready, naming redis; a unit is still refused the office’s snapshot (403)', async () => {
    expect(readyAtOnce.statusCode).toBe(200);
    expect(JSON.parse(readyAtOnce.body).checks.redis).toMatch(/^warning: unreachable for \d+ s/);
    const ready = await eventually(
      async () => {
        const r = await platform.services['request-approval']!.inject({ method: 'GET', url: '/health/ready' });
        return r.statusCode === 503 ? r : undefined;
      },
      10_000,
      'readiness to fail',
    );
    expect(JSON.parse(ready.body).checks.redis).toBe('failed');
    const denied = await request(platform.gatewayUrl).get('/api/v1/grants/snapshot').set('authorization', `Bearer ${unit.token}`);
    expect({ status: denied.status, code: denied.body.code }).toEqual({ status: 403, code: 'ROLE_REQUIRED' });
  });
});

describe('a service whose Redis is unreachable from the start', () => {
  let platform: TestPlatform;
  let unit: TestUser;
  beforeAll(async () => {
    platform = await startPlatform(['request-approval'], { config: { 'request-approval': { redisUrl: `redis://127.0.0.1:${closedPort}` } } });
    unit = await addUser(platform.gateway, 'RS', ['unit_admin']);
  });

  test('answers 503 with Retry-After (it cannot know which tokens are revoked), and still shuts down promptly', async () => {
    const res = await request(platform.gatewayUrl).get('/api/v1/requests').set('authorization', `Bearer ${unit.token}`);
    expect({ status: res.status, code: res.body.code, retryAfter: res.headers['retry-after'] }).toEqual({ status: 503, code: 'REVOCATIONS_NOT_READY', retryAfter: '5' });
    // Its stream readers waited on a connection that never came up: close() used to hang on them.
    const started = Date.now();
    await platform.close();
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
