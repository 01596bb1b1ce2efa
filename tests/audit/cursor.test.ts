import { randomUUID } from 'node:crypto';
import request from 'supertest';
import type { Redis } from 'ioredis';
import type { App } from '@gdx/service-kit';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { deleteKeys, testPrefix } from '../helpers/redis';
import { auditorToken, newRedis, publish, someEvents, startAudit, waitFor } from './audit-test-kit';

/** Issue 11 item 6: a cursor the service did not give out is 400 INVALID_CURSOR, never 500. */
describe('audit records: forged cursors', () => {
  let db: TestDatabase;
  let prefix: string;
  let redis: Redis;
  let app: App;
  const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
  const list = (query: Record<string, unknown>) => request(app.server).get('/api/v1/audit/records').query(query).auth(auditorToken(), { type: 'bearer' });

  beforeAll(async () => {
    db = await createTestDatabase();
    prefix = testPrefix();
    redis = newRedis();
    app = await startAudit(db.url, prefix);
    await publish(redis, prefix, someEvents(5));
    await waitFor('the records', async () => ((await list({ limit: 10 })).body.items?.length ?? 0) === 5);
  });

  afterAll(async () => {
    await app.close();
    redis.disconnect();
    await db.drop();
    await deleteKeys(prefix);
  });

  it('pages with the cursors it gives out', async () => {
    const first = await list({ limit: 3 }).expect(200);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const second = await list({ limit: 3, cursor: first.body.nextCursor }).expect(200);
    expect(second.body.items).toHaveLength(2);
    expect(second.body.nextCursor).toBeNull();
  });

  it.each([
    ['a number-like text for the time', b64(['1', randomUUID()])],
    ['a number for the time', b64([1, randomUUID()])],
    ['a date without a time', b64(['2025-01-01', randomUUID()])],
    ['an impossible date', b64(['2025-02-30T08:00:00.000Z', randomUUID()])],
    ['year 0000', b64(['0000-01-01T00:00:00.000Z', randomUUID()])],
    ['an offset instead of Z', b64(['2025-01-01T08:00:00.000+08:00', randomUUID()])],
    ['a malformed uuid', b64(['2025-01-01T00:00:00.000Z', 'not-a-uuid'])],
    ['a number for the id', b64(['2025-01-01T00:00:00.000Z', 42])],
    ['too few parts', b64(['2025-01-01T00:00:00.000Z'])],
    ['too many parts', b64(['2025-01-01T00:00:00.000Z', randomUUID(), 'x'])],
    ['nulls', b64([null, null])],
    ['an object', b64({ occurredAt: '2025-01-01T00:00:00.000Z', id: randomUUID() })],
    ['not JSON', b64('{[')],
    ['not base64url JSON at all', '!!!'],
  ])('refuses %s with 400 INVALID_CURSOR', async (_what, cursor) => {
    const res = await list({ cursor }).expect(400);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(res.body).toMatchObject({ status: 400, code: 'INVALID_CURSOR' });
  });
});
