import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { Redis } from 'ioredis';
import { createEvent } from '@gdx/contracts';
import { streamKey } from '@gdx/events';
import { startPlatform, type TestPlatform } from '../helpers/platform';
import { addUser, type TestUser } from '../helpers/gateway';
import { adminQuery } from '../helpers/db';
import { deleteKeys, REDIS_URL, testPrefix } from '../helpers/redis';
import { checkTrail, trailReport, type GatewayCall } from '../helpers/trail';

/**
 * The harness's own check of §7 (tests/helpers/trail.ts), which every startPlatform runs
 * in close(): it sees every answer of the gateway, finds each /api/v1 call on the record,
 * and names exactly the calls whose record is lost.
 */
let platform: TestPlatform;
let redis: Redis;
let caller: TestUser;
let other: TestUser;

beforeAll(async () => {
  platform = await startPlatform(['catalogue', 'audit']);
  redis = new Redis(REDIS_URL);
  caller = await addUser(platform.gateway, 'RS', ['unit_admin']);
  other = await addUser(platform.gateway, 'HY', ['unit_admin']);
});
afterAll(async () => {
  redis?.disconnect();
  await platform?.close();
});

const gw = () => request(platform.gatewayUrl);
const bearer = (u: TestUser) => ({ authorization: `Bearer ${u.token}` });
const callOf = (requestId: string) => platform.calls.find((c) => c.requestId === requestId);

/** The call stream's entry recording `requestId`, as stored. */
async function callEntry(requestId: string): Promise<{ id: string; payload: string }> {
  const entries = await redis.xrange(streamKey(platform.prefix, 'call'), '-', '+');
  const hit = entries.find(([, fields]) => (JSON.parse(fields[1]) as { data: { requestId?: string } }).data.requestId === requestId);
  if (!hit) throw new Error(`no call.completed for ${requestId}`);
  return { id: hit[0], payload: hit[1][1] };
}

test('every answer of the gateway is seen, and each /api/v1 call, allowed or refused, anonymous or not, is found on the record', async () => {
  const ids = { allowed: `t-${randomUUID()}`, refused: `t-${randomUUID()}`, noRoute: `t-${randomUUID()}`, anonymous: `t-${randomUUID()}`, health: `t-${randomUUID()}` };
  await gw().get('/api/v1/catalogue/resources').set(bearer(caller)).set('x-request-id', ids.allowed).expect(200);
  await gw().get('/api/v1/audit/verify').set(bearer(caller)).set('x-request-id', ids.refused).expect(403);
  await gw().get('/api/v1/no-such-route').set(bearer(caller)).set('x-request-id', ids.noRoute).expect(404);
  await gw().get('/api/v1/catalogue/resources').set('x-request-id', ids.anonymous).expect(401);
  await gw().get('/health/live').set('x-request-id', ids.health);

  expect(callOf(ids.allowed)).toEqual(expect.objectContaining({ method: 'GET', path: '/api/v1/catalogue/resources', route: '/api/v1/catalogue/*', status: 200, unitId: caller.unitId }));
  expect(callOf(ids.refused)).toEqual(expect.objectContaining({ status: 403, unitId: caller.unitId }));
  expect(callOf(ids.noRoute)).toEqual(expect.objectContaining({ status: 404, route: undefined }));
  expect(callOf(ids.anonymous)).toEqual(expect.objectContaining({ status: 401, unitId: undefined }));
  expect(callOf(ids.health)).toEqual(expect.objectContaining({ path: '/health/live' }));
  // The sign-ins of beforeAll are gateway calls too (recorded by auth.login_succeeded).
  expect(platform.calls.filter((c) => c.route === '/api/v1/auth/login')).toHaveLength(2);

  const result = await platform.checkTrail();
  expect(result.missing).toEqual([]);
  // Everything on /api/v1 is looked for; the health probe and the services' JWKS fetches are not.
  expect(result.checked).toBe(platform.calls.filter((c) => c.path.startsWith('/api/v1/')).length);
  expect(result.checked).toBeLessThan(platform.calls.length);
});

test('a call whose record is lost is reported by its request id, method, route and status, and only that call', async () => {
  const lost = `t-${randomUUID()}`;
  const kept = `t-${randomUUID()}`;
  await gw().get('/api/v1/catalogue/resources').set(bearer(caller)).set('x-request-id', lost).expect(200);
  await gw().get('/api/v1/catalogue/resources').set(bearer(other)).set('x-request-id', kept).expect(200);
  expect((await platform.checkTrail()).missing).toEqual([]);

  const entry = await callEntry(lost);
  await redis.xdel(streamKey(platform.prefix, 'call'), entry.id);
  try {
    const result = await platform.checkTrail({ timeoutMs: 200 });
    expect(result.missing).toEqual([
      {
        call: expect.objectContaining({ requestId: lost, method: 'GET', route: '/api/v1/catalogue/*', status: 200, unitId: caller.unitId }) as unknown,
        problem: expect.stringContaining('no call.completed event') as unknown,
      },
    ]);
    const report = trailReport(result, 'the self-test');
    expect(report).toContain(`GET /api/v1/catalogue/resources (route /api/v1/catalogue/*) → 200, request id ${lost}`);
    expect(report).not.toContain(kept);

    // A known gap excuses the case, and says so.
    const gap = { method: 'GET', route: '/api/v1/catalogue/*', statuses: [200], reason: 'self-test' };
    const excused = await checkTrail({ calls: platform.calls, prefix: platform.prefix, timeoutMs: 200, knownGaps: [gap] });
    expect(excused.missing).toEqual([]);
    expect(excused.excused).toEqual([expect.objectContaining({ call: expect.objectContaining({ requestId: lost }) as unknown, knownGap: gap })]);
  } finally {
    // Put the record back: the file's own close() checks every call.
    await redis.xadd(streamKey(platform.prefix, 'call'), '*', 'event', entry.payload);
  }
  expect((await platform.checkTrail()).missing).toEqual([]);
});

test('a record that did not reach the audit trail, or that the calling unit cannot see there, is reported', async () => {
  const call = (requestId: string, unitId: string): GatewayCall => ({ requestId, method: 'GET', path: '/api/v1/catalogue/resources', route: '/api/v1/catalogue/*', status: 200, unitId });
  const event = (requestId: string, unitId: string) =>
    createEvent('call.completed', {
      actor: { kind: 'account', unitId },
      subject: '/api/v1/catalogue/resources',
      data: { method: 'GET', route: '/api/v1/catalogue/*', path: '/api/v1/catalogue/resources', status: 200, result: 'allowed', unitId, requestId, sourceAddress: '127.0.0.1', latencyMs: 1 },
    });

  // On the platform's stream, ingested by the audit service, but under another unit than the caller's.
  const unseen = `t-${randomUUID()}`;
  await redis.xadd(streamKey(platform.prefix, 'call'), '*', 'event', JSON.stringify(event(unseen, other.unitId)));
  const hidden = await checkTrail({ calls: [call(unseen, caller.unitId)], prefix: platform.prefix, auditDatabaseUrl: platform.db.url });
  expect(hidden.missing).toEqual([
    { call: expect.objectContaining({ requestId: unseen }) as unknown, problem: expect.stringContaining(`not visible to the calling unit ${caller.unitId}`) as unknown },
  ]);

  // On a stream no audit service reads: never on the trail.
  const scratch = testPrefix();
  const stranded = `t-${randomUUID()}`;
  try {
    await redis.xadd(streamKey(scratch, 'call'), '*', 'event', JSON.stringify(event(stranded, caller.unitId)));
    const lost = await checkTrail({ calls: [call(stranded, caller.unitId)], prefix: scratch, auditDatabaseUrl: platform.db.url, timeoutMs: 200 });
    expect(lost.missing).toEqual([{ call: expect.objectContaining({ requestId: stranded }) as unknown, problem: expect.stringContaining('not in audit.audit_record') as unknown }]);
  } finally {
    await deleteKeys(scratch);
  }
});

test('close() fails when a call is not on the record, naming it, and still cleans up', async () => {
  const second = await startPlatform(['catalogue'], { trailCheck: { timeoutMs: 200 } });
  const user = await addUser(second.gateway, 'RS', ['unit_admin']);
  const lost = `t-${randomUUID()}`;
  await request(second.gatewayUrl).get('/api/v1/catalogue/resources').set(bearer(user)).set('x-request-id', lost).expect(200);
  expect((await second.checkTrail()).missing).toEqual([]);
  const key = streamKey(second.prefix, 'call');
  const entries = await redis.xrange(key, '-', '+');
  await redis.xdel(key, ...entries.filter(([, f]) => f[1].includes(lost)).map(([id]) => id));
  const closing = second.close();
  await expect(closing).rejects.toThrow(`1 of 2 gateway calls on /api/v1 in tests/e2e/trail-completeness.test.ts are not on the record`);
  await expect(closing).rejects.toThrow(`GET /api/v1/catalogue/resources (route /api/v1/catalogue/*) → 200, request id ${lost}, unit ${user.unitId}`);
  // Cleaned up all the same.
  expect(await adminQuery('SELECT 1 FROM pg_database WHERE datname = $1', [second.db.name])).toEqual([]);
  expect(await redis.exists(key)).toBe(0);
});

test('opting out needs a reason', async () => {
  await expect(startPlatform([], { trailCheck: { skip: ' ' } })).rejects.toThrow('needs the reason');
});
