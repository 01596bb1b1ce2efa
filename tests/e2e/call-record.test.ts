import request from 'supertest';
import { randomUUID } from 'node:crypto';
import { referenceData } from '@gdx/codes';
import { startPlatform, type TestPlatform } from '../helpers/platform';
import { addUser, type TestUser } from '../helpers/gateway';
import { eventually } from '../helpers/wait';
import { publishReference } from '../helpers/catalogue';

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

test('a refused call on another unit’s request, grant or resource data is on the record for the caller and for the unit owning it, not for a third unit', async () => {
  const CODE = '102001/0001';
  const provider = await addUser(platform.gateway, 'SCJG', ['unit_admin']);
  const office = await addUser(platform.gateway, 'OFFICE', ['office_admin']);
  const outsider = await addUser(platform.gateway, 'LZH', ['unit_admin']);
  const bearer = (u: TestUser) => ({ authorization: `Bearer ${u.token}` });
  await publishReference(platform.gatewayUrl, CODE, provider, office);
  const filed = await gw()
    .post('/api/v1/requests')
    .set(bearer(caller))
    .send({
      resourceCode: CODE,
      items: ['creditCode', 'entityName'],
      serviceMode: 'interface',
      purpose: '社会保险登记核验',
      dutyBasis: '《社会保险法》第五十七条',
      expectedVolume: 100,
      validFrom: new Date(Date.now() - 60_000).toISOString(),
      validTo: new Date(Date.now() + 30 * 86_400_000).toISOString(),
    })
    .expect(201);
  const id = filed.body.id as string;
  const commitment = (await gw().get('/api/v1/commitment').set(bearer(caller)).expect(200)).body as { version: string; text: string };
  const granted = await gw()
    .post(`/api/v1/requests/${id}/filing`)
    .set(bearer(caller))
    .send({
      form: { applicantUnit: referenceData().units.find((u) => u.key === 'RS')!.name, contactName: '李四', contactPhone: '0552-2345678', securityMeasures: '专人专岗' },
      commitment: { version: commitment.version, text: commitment.text },
    })
    .expect(200);
  const grantId = granted.body.grantId as string;
  expect(grantId).toEqual(expect.any(String));

  const cases = [
    // The applicant tries the provider's review: 403 NOT_PROVIDER, the provider owns the decision.
    { by: caller, owner: provider, other: third, send: (rid: string) => gw().post(`/api/v1/requests/${id}/review`).set('x-request-id', rid).send({ decision: 'approve' }), status: 403 },
    // A unit that is no party asks for the request: 404, on the applicant's record too.
    { by: third, owner: caller, other: outsider, send: (rid: string) => gw().get(`/api/v1/requests/${id}`).set('x-request-id', rid), status: 404 },
    // The consumer tries to suspend its own grant (the provider's or the office's act): 403, on the provider's record too.
    { by: caller, owner: provider, other: third, send: (rid: string) => gw().post(`/api/v1/grants/${grantId}/suspend`).set('x-request-id', rid).send({ reason: '核查' }), status: 403 },
    // A unit that is no party asks for the grant: 404, on the consumer's record too.
    { by: third, owner: caller, other: outsider, send: (rid: string) => gw().get(`/api/v1/grants/${grantId}`).set('x-request-id', rid), status: 404 },
  ];
  // data-query knows the resource once the catalogue's event reached it.
  const batchOf = (u: TestUser, rid: string) =>
    gw()
      .post(`/api/v1/data/${encodeURIComponent(CODE)}/batches`)
      .set(bearer(u))
      .set('x-request-id', rid)
      .set('content-type', 'application/x-ndjson')
      .send('{"creditCode":"not a credit code"}');
  await eventually(async () => (await batchOf(provider, `call-${randomUUID()}`)).status === 422);
  cases.push(
    // Another unit submits data for the provider's resource: 403, on the provider's record too.
    { by: caller, owner: provider, other: third, send: (rid: string) => batchOf(caller, rid), status: 403 },
    // Another unit tries to deprecate the provider's resource (the office's act): 403, on the provider's record too.
    {
      by: caller,
      owner: provider,
      other: third,
      send: (rid: string) =>
        gw()
          .post(`/api/v1/catalogue/resources/${encodeURIComponent(CODE)}/deprecate`)
          .set('x-request-id', rid)
          .send({ reason: '停止共享' }),
      status: 403,
    },
  );
  for (const c of cases) {
    const requestId = `call-${randomUUID()}`;
    const res = await c.send(requestId).set(bearer(c.by));
    expect(res.status).toBe(c.status);
    expect(res.headers['gdx-owner-unit']).toBeUndefined();
    expect(res.headers['gdx-problem-code']).toBeUndefined();
    const code = (res.body as { code: string }).code;
    for (const who of [c.by, c.owner]) {
      const records = await eventually(async () => {
        const r = await trailOf(who, requestId);
        return r.length ? r : undefined;
      });
      expect(records).toEqual([
        // The upstream service's problem code, as the caller saw it, is on the record too.
        expect.objectContaining({ type: 'call.completed', result: 'denied', data: expect.objectContaining({ status: c.status, code, unitId: c.by.unitId, ownerUnitId: c.owner.unitId }) as unknown }),
      ]);
    }
    expect(await trailOf(c.other, requestId)).toEqual([]);
  }
  // The provider's own batch refused as a whole (422) is on its record, with no other owner.
  const rid = `call-${randomUUID()}`;
  expect((await batchOf(provider, rid)).status).toBe(422);
  const own = await eventually(async () => {
    const r = await trailOf(provider, rid);
    return r.length ? r : undefined;
  });
  expect(own).toEqual([
    expect.objectContaining({ type: 'call.completed', result: 'denied', data: expect.objectContaining({ status: 422, code: 'BATCH_REJECTED', unitId: provider.unitId }) as unknown }),
  ]);
  expect(own[0].data.ownerUnitId).toBeUndefined();
  expect(await trailOf(third, rid)).toEqual([]);
  // Straight to the service, without the gateway's service token, a 404 names no owner.
  const direct = platform.services['request-approval']!.server.address() as { port: number };
  for (const forged of [{}, { 'gdx-service-token': third.token }]) {
    const res = await request(`http://127.0.0.1:${direct.port}`).get(`/api/v1/requests/${id}`).set(bearer(third)).set(forged).expect(404);
    expect(res.headers['gdx-owner-unit']).toBeUndefined();
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
