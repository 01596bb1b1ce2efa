import { randomUUID } from 'node:crypto';
import request from 'supertest';
import type { Redis } from 'ioredis';
import type { EventEnvelope } from '@gdx/events';
import { startPlatform, type TestPlatform } from '../helpers/platform';
import { addUser, type TestUser } from '../helpers/gateway';
import { auditKeysDir, newRedis, publish, queryEvent, waitFor } from './audit-test-kit';

/** Through the gateway, with real tokens of two units and the office. */
describe('audit records: who sees what, search and export', () => {
  let platform: TestPlatform;
  let redis: Redis;
  let ga: TestUser;
  let scjg: TestUser;
  let auditor: TestUser;
  const third = randomUUID();
  let gaOnScjg: EventEnvelope;
  let scjgOwn: EventEnvelope;
  let thirdOnGa: EventEnvelope;
  let thirdOwn: EventEnvelope;

  const get = (user: TestUser, path: string) => request(platform.gatewayUrl).get(path).auth(user.token, { type: 'bearer' });
  const ids = (body: { items: { id: string }[] }) => body.items.map((r) => r.id).sort();

  beforeAll(async () => {
    platform = await startPlatform(['audit'], { service: { claimIdleMs: 300, auditKeysDir: auditKeysDir(), checkpointIntervalMs: 0 } });
    redis = newRedis();
    ga = await addUser(platform.gateway, 'GA', ['unit_operator']);
    scjg = await addUser(platform.gateway, 'SCJG', ['unit_admin']);
    auditor = await addUser(platform.gateway, 'OFFICE', ['office_auditor']);
    const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000);
    gaOnScjg = queryEvent(ga.unitId, scjg.unitId, { result: 'allowed' }, minutesAgo(4));
    scjgOwn = queryEvent(scjg.unitId, scjg.unitId, { result: 'denied' }, minutesAgo(3));
    thirdOnGa = queryEvent(third, ga.unitId, { result: 'allowed' }, minutesAgo(2));
    thirdOwn = queryEvent(third, third, { result: 'allowed' }, minutesAgo(1));
    await publish(redis, platform.prefix, [gaOnScjg, scjgOwn, thirdOnGa, thirdOwn]);
    await waitFor('the four records', async () => {
      const r = await get(auditor, '/api/v1/audit/records?action=query.executed');
      return r.status === 200 && r.body.items.length === 4;
    });
  });

  afterAll(async () => {
    redis.disconnect();
    await platform.close();
  });

  it('shows a unit the records of its own calls and of calls on its resources, the office all of them', async () => {
    expect(ids((await get(ga, '/api/v1/audit/records?action=query.executed').expect(200)).body)).toEqual([gaOnScjg.id, thirdOnGa.id].sort());
    expect(ids((await get(scjg, '/api/v1/audit/records?action=query.executed').expect(200)).body)).toEqual([gaOnScjg.id, scjgOwn.id].sort());
    expect(ids((await get(auditor, '/api/v1/audit/records?action=query.executed').expect(200)).body)).toEqual([gaOnScjg.id, scjgOwn.id, thirdOnGa.id, thirdOwn.id].sort());
  });

  it('answers 404 for another unit’s record and 200 for a visible one', async () => {
    await get(ga, `/api/v1/audit/records/${scjgOwn.id}`).expect(404);
    await get(ga, `/api/v1/audit/records/${thirdOwn.id}`).expect(404);
    const own = await get(ga, `/api/v1/audit/records/${gaOnScjg.id}`).expect(200);
    expect(own.body).toMatchObject({ id: gaOnScjg.id, actor: { unitId: ga.unitId }, ownerUnitId: scjg.unitId });
    await get(scjg, `/api/v1/audit/records/${gaOnScjg.id}`).expect(200);
    await get(auditor, `/api/v1/audit/records/${thirdOwn.id}`).expect(200);
    await get(auditor, `/api/v1/audit/records/${randomUUID()}`).expect(404);
  });

  it('does not widen a unit’s view through filters', async () => {
    expect((await get(ga, `/api/v1/audit/records?unitId=${scjg.unitId}`).expect(200)).body.items).toEqual([]);
    expect(ids((await get(auditor, `/api/v1/audit/records?unitId=${scjg.unitId}&action=query.executed`).expect(200)).body)).toEqual([scjgOwn.id]);
  });

  it('searches by resource, grant, action, result, request id, account or client, and time', async () => {
    const d = gaOnScjg.data as Record<string, string>;
    const q = (query: string) =>
      get(auditor, `/api/v1/audit/records?${query}`)
        .expect(200)
        .then((r) => ids(r.body));
    expect(await q(`grantId=${d.grantId}`)).toEqual([gaOnScjg.id]);
    expect(await q(`requestId=${d.requestId}`)).toEqual([gaOnScjg.id]);
    expect(await q(`clientId=${gaOnScjg.actor.clientId}`)).toEqual([gaOnScjg.id]);
    expect(await q(`subject=${encodeURIComponent(gaOnScjg.subject)}&unitId=${third}`)).toEqual([thirdOnGa.id, thirdOwn.id].sort());
    expect(await q('action=query.executed&result=denied')).toEqual([scjgOwn.id]);
    expect(await q('action=query.*&resourceCode=R-1%2F0001')).toHaveLength(4);
    expect(await q(`action=query.executed&from=${encodeURIComponent(gaOnScjg.occurredAt)}&to=${encodeURIComponent(scjgOwn.occurredAt)}`)).toEqual([gaOnScjg.id]);
    expect(await q('action=query.executed&from=2000-01-01T00:00:00Z&to=2000-02-01T00:00:00Z')).toEqual([]);
    await get(auditor, '/api/v1/audit/records?result=maybe').expect(400);
    await get(auditor, '/api/v1/audit/records?cursor=bogus').expect(400);
  });

  it('pages with a cursor, newest first, without gaps or repeats', async () => {
    const seen: { id: string; occurredAt: string }[] = [];
    let cursor: string | null = null;
    do {
      const res: request.Response = await get(auditor, `/api/v1/audit/records?action=query.executed&limit=3${cursor ? `&cursor=${cursor}` : ''}`).expect(200);
      seen.push(...res.body.items);
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(seen.map((r) => r.id).sort()).toEqual([gaOnScjg.id, scjgOwn.id, thirdOnGa.id, thirdOwn.id].sort());
    const times = seen.map((r) => r.occurredAt);
    expect([...times].sort().reverse()).toEqual(times);
  });

  it('exports a search as CSV and NDJSON, within the caller’s view', async () => {
    const csv = await get(ga, '/api/v1/audit/records?action=query.executed&format=csv').expect(200);
    expect(csv.headers['content-type']).toMatch(/text\/csv/);
    const rows = csv.text.trim().split('\r\n');
    expect(rows[0].split(',').slice(0, 4)).toEqual(['id', 'occurredAt', 'type', 'result']);
    expect(
      rows
        .slice(1)
        .map((r) => r.split(',')[0])
        .sort(),
    ).toEqual([gaOnScjg.id, thirdOnGa.id].sort());
    const nd = await get(auditor, '/api/v1/audit/records?action=query.executed&format=ndjson').expect(200);
    expect(nd.headers['content-type']).toMatch(/application\/x-ndjson/);
    expect(
      nd.text
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).id)
        .sort(),
    ).toEqual([gaOnScjg.id, scjgOwn.id, thirdOnGa.id, thirdOwn.id].sort());
  });

  it('keeps verification to the office', async () => {
    await get(ga, '/api/v1/audit/verify').expect(403);
    const report = await get(auditor, '/api/v1/audit/verify').expect(200);
    expect(report.body).toMatchObject({ ok: true, firstProblem: null });
  });

  it('records a real sign-in through the gateway as auth.login_succeeded', async () => {
    const login = await request(platform.gatewayUrl).post('/api/v1/auth/login').send({ username: ga.username, password: ga.password }).expect(200);
    const requestId = login.headers['x-request-id'];
    await platform.gateway.relay.drain();
    const res = await waitFor(
      'the sign-in record',
      async () => {
        const r = await get(auditor, `/api/v1/audit/records?action=auth.login_succeeded&requestId=${encodeURIComponent(requestId)}`);
        return r.status === 200 && r.body.items.length === 1 ? r : undefined;
      },
      15_000,
    );
    expect(res.body.items[0]).toMatchObject({
      type: 'auth.login_succeeded',
      result: 'ok',
      subject: ga.id,
      requestId,
      actor: { kind: 'account', unitId: ga.unitId, accountId: ga.id },
      data: { username: ga.username },
    });
    expect(res.body.items[0].sourceAddress).toBeTruthy();
    // The unit sees its own sign-ins too; the other unit does not.
    expect((await get(ga, `/api/v1/audit/records?requestId=${encodeURIComponent(requestId)}`).expect(200)).body.items).toHaveLength(1);
    expect((await get(scjg, `/api/v1/audit/records?requestId=${encodeURIComponent(requestId)}`).expect(200)).body.items).toHaveLength(0);
  });

  it('records a refused sign-in as auth.login_failed with result failed', async () => {
    await request(platform.gatewayUrl).post('/api/v1/auth/login').send({ username: scjg.username, password: 'wrong password' }).expect(401);
    await platform.gateway.relay.drain();
    const res = await waitFor(
      'the refusal',
      async () => {
        const r = await get(auditor, `/api/v1/audit/records?action=auth.login_failed&accountId=${scjg.id}`);
        return r.status === 200 && r.body.items.length ? r : undefined;
      },
      15_000,
    );
    expect(res.body.items[0]).toMatchObject({ result: 'failed', actor: { unitId: scjg.unitId }, data: { reason: 'bad_password' } });
  });
});
