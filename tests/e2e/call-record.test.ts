import request from 'supertest';
import { randomUUID } from 'node:crypto';
import { startPlatform, type TestPlatform } from '../helpers/platform';
import { addUser, type TestUser } from '../helpers/gateway';
import { eventually } from '../helpers/wait';

/**
 * Issue 11 item 2 (§7): every call through the gateway, allowed or refused, on every
 * route, is on the audit trail once (`call.completed`), found by its request id by
 * the caller's unit and by nobody of a third unit.
 */
let platform: TestPlatform;
let caller: TestUser;
let third: TestUser;

beforeAll(async () => {
  platform = await startPlatform(['catalogue', 'request-approval', 'data-query', 'audit']);
  caller = await addUser(platform.gateway, 'RS', ['unit_admin']);
  third = await addUser(platform.gateway, 'HY', ['unit_admin']);
});
afterAll(async () => {
  await platform?.close();
});

const gw = () => request(platform.gatewayUrl);

/** The trail's records of one HTTP request id, as `user` may see them. */
async function trailOf(user: TestUser, requestId: string) {
  const res = await gw().get('/api/v1/audit/records').query({ requestId }).set('authorization', `Bearer ${user.token}`).expect(200);
  return res.body.items as { type: string; result: string; requestId: string; actor: { unitId?: string }; data: Record<string, unknown> }[];
}

test('allowed and refused calls on the proxied routes are each on the record once, for the caller’s unit and not for a third unit', async () => {
  const calls = [
    { send: (id: string) => gw().get('/api/v1/requests').set('x-request-id', id), status: 200, result: 'allowed', route: '/api/v1/requests' },
    { send: (id: string) => gw().get(`/api/v1/requests/${randomUUID()}`).set('x-request-id', id), status: 404, result: 'denied', route: '/api/v1/requests/*' },
    { send: (id: string) => gw().post(`/api/v1/requests/${randomUUID()}/review`).set('x-request-id', id).send({ decision: 'approve' }), status: 404, result: 'denied', route: '/api/v1/requests/*' },
    { send: (id: string) => gw().get('/api/v1/audit/verify').set('x-request-id', id), status: 403, result: 'denied', route: '/api/v1/audit/*' },
  ];
  for (const c of calls) {
    const requestId = `call-${randomUUID()}`;
    const res = await c.send(requestId).set('authorization', `Bearer ${caller.token}`);
    expect(res.status).toBe(c.status);
    // The owner hint between services never reaches the caller.
    expect(res.headers['gdx-owner-unit']).toBeUndefined();
    const records = await eventually(async () => {
      const r = await trailOf(caller, requestId);
      return r.length ? r : undefined;
    });
    expect(records).toEqual([
      expect.objectContaining({
        type: 'call.completed',
        result: c.result,
        requestId,
        actor: expect.objectContaining({ unitId: caller.unitId }) as unknown,
        data: expect.objectContaining({ status: c.status, route: c.route, unitId: caller.unitId, accountId: caller.id }) as unknown,
      }),
    ]);
    expect(await trailOf(third, requestId)).toEqual([]);
  }
});

test('a refusal the gateway answers itself (a body over the limit) is on the record with its problem code', async () => {
  const requestId = `call-${randomUUID()}`;
  await gw()
    .post('/api/v1/requests')
    .set('authorization', `Bearer ${caller.token}`)
    .set('x-request-id', requestId)
    .set('content-type', 'application/json')
    .send(JSON.stringify({ purpose: 'x'.repeat(1_100_000) }))
    .expect(413);
  const records = await eventually(async () => {
    const r = await trailOf(caller, requestId);
    return r.length ? r : undefined;
  });
  expect(records).toEqual([expect.objectContaining({ type: 'call.completed', result: 'denied', data: expect.objectContaining({ status: 413, code: 'BODY_TOO_LARGE' }) as unknown })]);
});

test('interface queries and sign-ins are not recorded twice: no call.completed for them', async () => {
  const requestId = `call-${randomUUID()}`;
  await gw().post('/api/v1/query/999999%2F0001').set('authorization', `Bearer ${caller.token}`).set('x-request-id', requestId).send({ where: {} });
  const records = await eventually(async () => {
    const r = await trailOf(caller, requestId);
    return r.length ? r : undefined;
  });
  expect(records.map((r) => r.type)).toEqual(['query.denied']);
});
