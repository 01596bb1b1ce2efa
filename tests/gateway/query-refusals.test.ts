import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer } from 'node:net';
import request from 'supertest';
import { Redis } from 'ioredis';
import { checkEvent, createEvent, type GrantView } from '@gdx/contracts';
import { starterResourceView } from '@gdx/data-query/testing';
import { streamKey } from '@gdx/events';
import type { App } from '@gdx/service-kit';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { deleteKeys, REDIS_URL, testPrefix } from '../helpers/redis';
import { addUser, startGateway, type TestUser } from '../helpers/gateway';
import { watchTrail } from '../helpers/trail';
import { eventually } from '../helpers/wait';
import { grantView } from '../helpers/grants';

/**
 * What the gateway refuses of interface queries, and how it puts each refusal on the
 * record: a `query.denied` event the contracts declare (it passes checkEvent), naming
 * the grant and its provider unit when the decision found one. The grant snapshot
 * comes from a stand-in for request-approval; data-query is on a port that is closed.
 */
let db: TestDatabase;
let app: App;
let redis: Redis;
let snapshotServer: Server;
let consumer: TestUser;
const prefix = testPrefix();
const trail = watchTrail();
const snapshotItems: GrantView[] = [];
const PROVIDER = '01900000-0000-7000-8000-0000000000d1';
const CODE = '101001/0001';
const QUOTA_CODE = '102001/0001';

async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const { port } = probe.address() as { port: number };
  await new Promise((r) => probe.close(r));
  return port;
}

const view = (over: Partial<GrantView>): GrantView =>
  grantView({
    id: '01900000-0000-7000-8000-000000000001',
    consumerUnitId: consumer.unitId,
    providerUnitId: PROVIDER,
    resourceCode: CODE,
    dailyQuota: 1000,
    validFrom: new Date(Date.now() - 60_000).toISOString(),
    validTo: new Date(Date.now() + 86_400_000).toISOString(),
    purpose: 'test',
    requestId: '01900000-0000-7000-8000-0000000000e1',
    ...over,
  });

beforeAll(async () => {
  db = await createTestDatabase();
  redis = new Redis(REDIS_URL);
  snapshotServer = createHttpServer((req, res) => {
    // Not ready until the test knows its consumer unit: the gateway's cache retries meanwhile.
    res.writeHead(req.url !== '/api/v1/grants/snapshot' ? 404 : snapshotItems.length ? 200 : 503, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ position: '0-0', stream: streamKey(prefix, 'grant'), takenAt: new Date().toISOString(), items: snapshotItems }));
  });
  await new Promise<void>((r) => snapshotServer.listen(0, '127.0.0.1', r));
  const snapshotPort = (snapshotServer.address() as { port: number }).port;
  app = await startGateway(db.url, prefix, { requestApprovalUrl: `http://127.0.0.1:${snapshotPort}`, dataQueryUrl: `http://127.0.0.1:${await closedPort()}` }, trail.onCall);
  consumer = await addUser(app, 'RS', ['unit_admin']);
  snapshotItems.push(view({}), view({ id: '01900000-0000-7000-8000-000000000002', resourceCode: QUOTA_CODE, dailyQuota: 1 }));
  await app.listen({ host: '127.0.0.1', port: 0 });
  await eventually(async () => app.grants.ready && app.grants.size() === 2, 10_000, 'the grant snapshot');
});
afterAll(async () => {
  await trail.check(prefix);
  await app?.close();
  await new Promise((r) => snapshotServer?.close(r));
  redis?.disconnect();
  await db?.drop();
  await deleteKeys(prefix);
  trail.assertComplete();
});

const ask = (code: string, body: unknown, requestId: string) =>
  request(app.server)
    .post(`/api/v1/query/${encodeURIComponent(code)}`)
    .set('authorization', `Bearer ${consumer.token}`)
    .set('x-request-id', requestId)
    .send(body as object);

/** The one `query.denied` event of a request, checked against the contracts. */
async function deniedEventOf(requestId: string) {
  const found = await eventually(
    async () => {
      const entries = await redis.xrange(streamKey(prefix, 'query'), '-', '+');
      const events = entries.map(([, fields]) => JSON.parse(fields[fields.indexOf('event') + 1])).filter((e) => e.data?.requestId === requestId);
      return events.length ? events : undefined;
    },
    5_000,
    `the record of ${requestId}`,
  );
  expect(found).toHaveLength(1);
  expect(checkEvent(found[0])).toBeUndefined();
  return found[0];
}

test('an item outside the grant: 403 naming the item, on the record with the grant and its provider unit', async () => {
  const res = await ask(CODE, { where: { idNumber: '11010519491231002X' }, items: ['name', 'phone'] }, 'refusal-item');
  expect(res.status).toBe(403);
  expect(res.body).toMatchObject({ code: 'ITEM_NOT_GRANTED', field: 'body.items', item: 'phone' });
  const e = await deniedEventOf('refusal-item');
  expect(e).toMatchObject({
    type: 'query.denied',
    subject: CODE,
    data: {
      unitId: consumer.unitId,
      accountId: consumer.id,
      grantId: '01900000-0000-7000-8000-000000000001',
      providerUnitId: PROVIDER,
      mode: 'interface',
      items: ['name', 'phone'],
      result: 'denied',
      reason: 'ITEM_NOT_GRANTED',
      status: 403,
      via: 'gateway',
    },
  });
});

test('no grant for the resource: 403 NO_GRANT, on the record without a grant or provider', async () => {
  const res = await ask('999999/0001', { where: { idNumber: '11010519491231002X' } }, 'refusal-none');
  expect(res.status).toBe(403);
  expect(res.body.code).toBe('NO_GRANT');
  const e = await deniedEventOf('refusal-none');
  expect(e.data).toMatchObject({ grantId: null, mode: 'interface', items: [], reason: 'NO_GRANT' });
  expect(e.data.providerUnitId).toBeUndefined();
});

test('no grant for a resource the catalogue announced: the refusal names its provider (the trail’s owner unit of the record)', async () => {
  const other = '01900000-0000-7000-8000-0000000000d2';
  // The catalogue's announcement of a resource of another provider, for which the caller holds no grant…
  const announced = { ...starterResourceView('101001/0001', other), code: '101001/0777' };
  await redis.xadd(streamKey(prefix, 'resource'), '*', 'event', JSON.stringify(createEvent('resource.published', { actor: { kind: 'system' }, subject: announced.code, data: announced })));
  const e = await eventually(
    async () => {
      const requestId = `refusal-announced-${Math.random().toString(36).slice(2)}`;
      expect((await ask(announced.code, { where: { idNumber: '11010519491231002X' } }, requestId)).body.code).toBe('NO_GRANT');
      const event = await deniedEventOf(requestId);
      return event.data.providerUnitId ? event : undefined;
    },
    5_000,
    'the provider on the refusal',
  );
  expect(e.data).toMatchObject({ grantId: null, reason: 'NO_GRANT', providerUnitId: other, resourceCode: announced.code });
});

test('a malformed query (the contracts’ query body): 400 naming the field, on the record with the items that read as items', async () => {
  const res = await ask(CODE, { where: { idNumber: '11010519491231002X' }, items: [{ not: 'an item' }, 'name'] }, 'refusal-malformed');
  expect(res.status).toBe(400);
  expect(res.body).toMatchObject({ code: 'VALIDATION_FAILED', field: 'body.items.0' });
  const e = await deniedEventOf('refusal-malformed');
  expect(e.data).toMatchObject({ grantId: null, items: ['name'], reason: 'VALIDATION_FAILED', status: 400 });
  // The page size the contracts document is the one enforced.
  expect((await ask(CODE, { where: { idNumber: '11010519491231002X' }, limit: 101 }, 'refusal-limit')).body).toMatchObject({ code: 'VALIDATION_FAILED', field: 'body.limit' });
});

test('the daily quota used up: 429 with Retry-After and RateLimit headers, on the record with the grant', async () => {
  const body = { where: { creditCode: '11340300284135459M' } };
  // The one call of the day passes the gateway (data-query is not there: 503) and counts.
  const first = await ask(QUOTA_CODE, body, 'quota-1');
  expect(first.body.code).toBe('UPSTREAM_UNAVAILABLE');
  expect(first.headers['ratelimit-limit']).toBe('100');
  const refused = await ask(QUOTA_CODE, body, 'quota-2');
  expect(refused.status).toBe(429);
  expect(refused.body.code).toBe('QUOTA_EXCEEDED');
  expect(refused.headers).toMatchObject({ 'ratelimit-limit': '1', 'ratelimit-remaining': '0' });
  expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
  expect(refused.headers['ratelimit-reset']).toBe(refused.headers['retry-after']);
  const e = await deniedEventOf('quota-2');
  expect(e.data).toMatchObject({ grantId: '01900000-0000-7000-8000-000000000002', providerUnitId: PROVIDER, reason: 'QUOTA_EXCEEDED', status: 429 });
});
