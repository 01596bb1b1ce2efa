import { request as httpRequest } from 'node:http';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { streamKey } from '@gdx/events';
import { startPlatform, type TestPlatform } from '../helpers/platform';
import { addUser, type TestUser } from '../helpers/gateway';
import { REDIS_URL } from '../helpers/redis';

/**
 * Issue 16 (9): behind the ingress, the record carries the caller's address (X-Forwarded-For as
 * the ingress controller wrote it), believed only from the proxies TRUST_PROXY names; anyone
 * else's X-Forwarded-For is ignored. The "ingress" here connects from 127.0.0.3, a caller
 * from 127.0.0.2.
 */
let platform: TestPlatform;
let user: TestUser;
let redis: Redis;

beforeAll(async () => {
  platform = await startPlatform([], { gateway: { trustProxy: '127.0.0.3' } });
  user = await addUser(platform.gateway, 'RS', ['unit_admin']);
  redis = new Redis(REDIS_URL);
});
afterAll(async () => {
  redis?.disconnect();
  await platform?.close();
});

function call(from: string, forwardedFor: string): Promise<string> {
  const requestId = `tp-${randomUUID()}`;
  return new Promise((resolve, reject) => {
    const url = new URL('/api/v1/units', platform.gatewayUrl);
    const req = httpRequest({ host: url.hostname, port: url.port, path: url.pathname, method: 'GET', localAddress: from }, (res) => res.resume().on('end', () => resolve(requestId)));
    req.on('error', reject);
    req.setHeader('authorization', `Bearer ${user.token}`);
    req.setHeader('x-request-id', requestId);
    req.setHeader('x-forwarded-for', forwardedFor);
    req.end();
  });
}

async function recordedAddress(requestId: string): Promise<string | undefined> {
  await platform.publishOutboxes();
  const entries = await redis.xrange(streamKey(platform.prefix, 'call'), '-', '+');
  const event = entries.map(([, f]) => JSON.parse(f[1]) as { data: { requestId: string; sourceAddress: string } }).find((e) => e.data.requestId === requestId);
  return event?.data.sourceAddress;
}

test('through the trusted ingress: the address it forwarded is on the record', async () => {
  expect(await recordedAddress(await call('127.0.0.3', '203.0.113.9'))).toBe('203.0.113.9');
});

test('from anyone else: their X-Forwarded-For is ignored, the peer address is on the record', async () => {
  expect(await recordedAddress(await call('127.0.0.2', '10.6.6.6'))).toBe('127.0.0.2');
});
