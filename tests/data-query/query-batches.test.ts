import request from 'supertest';
import { randomUUID } from 'node:crypto';
import { personOf } from '@gdx/data-query/testing';
import type { TestPlatform } from '../helpers/platform';
import type { TestUser } from '../helpers/gateway';
import { dataQueryUrl, enc, EventWriter, populationScenario, type Grant } from './support';

/**
 * POST /internal/v1/query-batches: the gateway's channel to data-query. Each call in a
 * batch must be answered, refused and audited exactly as the single call would be.
 */
let platform: TestPlatform;
let events: EventWriter;
let consumer: TestUser;
let other: TestUser;
let grant: Grant;
const CODE = '101001/0001';
const people = Array.from({ length: 8 }, (_, i) => personOf(i));
const inLzh = people.filter((p) => p.regionCode === '340302');
const masked = (id: string) => `${id.slice(0, 6)}********${id.slice(-4)}`;

beforeAll(async () => {
  ({ platform, events, consumer, other, grant } = await populationScenario(people));
});
afterAll(async () => {
  events?.close();
  await platform?.close();
});

interface Call {
  code?: string;
  authorization: string;
  body: unknown;
}

/** A batch as the gateway sends it (with its service token), or as anyone else could (`vouched: false`). */
async function batch(calls: Call[], vouched = true) {
  const sent = calls.map((c) => ({ code: CODE, requestId: `batch-${randomUUID()}`, sourceAddress: '10.9.8.7', ...c }));
  const res = await request(dataQueryUrl(platform))
    .post('/internal/v1/query-batches')
    .set(vouched ? { 'gdx-service-token': platform.gateway.serviceToken() } : {})
    .send({ calls: sent });
  return { res, requestIds: sent.map((c) => c.requestId) };
}

const auditOf = (requestId: string) => events.eventsOf('query', (e) => e.data.requestId === requestId);

test('every call of a batch gets its own answer, in order, and its own single audit event', async () => {
  const bearer = (u: TestUser) => `Bearer ${u.token}`;
  const { res, requestIds } = await batch([
    { authorization: bearer(consumer), body: { where: { idNumber: inLzh[0].idNumber } } },
    { authorization: bearer(other), body: { where: { idNumber: inLzh[0].idNumber } } },
    { authorization: bearer(consumer), body: { where: { idNumber: inLzh[1].idNumber }, items: ['householdAddress'] } },
    { authorization: bearer(consumer), body: { where: { idNumber: inLzh[1].idNumber }, unexpected: 1 } },
    { authorization: bearer(consumer), body: { where: { idNumber: inLzh[1].idNumber }, items: ['sex'] } },
    { authorization: bearer(consumer), code: '999999/0001', body: { where: { idNumber: inLzh[0].idNumber } } },
  ]);
  expect(res.status).toBe(200);
  const r = res.body.results;
  expect(r).toHaveLength(6);
  expect(r[0]).toEqual({ status: 200, body: { items: [{ idNumber: masked(inLzh[0].idNumber), name: '张**', sex: inLzh[0].sex, regionCode: '340302' }], nextCursor: null, grantId: grant.id } });
  expect(r[1]).toMatchObject({ status: 403, body: { code: 'NO_GRANT', status: 403, requestId: requestIds[1], instance: `/api/v1/query/${enc(CODE)}`, type: expect.stringMatching(/no-grant$/) } });
  expect(r[2]).toMatchObject({ status: 403, body: { code: 'ITEM_NOT_GRANTED', item: 'householdAddress' } });
  expect(r[3]).toMatchObject({ status: 400, body: { code: 'VALIDATION_FAILED', detail: expect.stringMatching(/unexpected|additional/i) } });
  expect(r[4]).toEqual({ status: 200, body: { items: [{ sex: inLzh[1].sex }], nextCursor: null, grantId: grant.id } });
  expect(r[5]).toMatchObject({ status: 404, body: { code: 'RESOURCE_NOT_FOUND' } });

  const audits = await Promise.all(requestIds.map(auditOf));
  for (const a of audits) expect(a).toHaveLength(1);
  expect(audits[0][0]).toMatchObject({
    type: 'query.executed',
    data: { unitId: consumer.unitId, accountId: consumer.id, grantId: grant.id, rowCount: 1, result: 'allowed', sourceAddress: '10.9.8.7', via: 'data-query' },
  });
  expect(audits[1][0]).toMatchObject({ type: 'query.denied', data: { unitId: other.unitId, reason: 'NO_GRANT' } });
  expect(audits[3][0]).toMatchObject({ type: 'query.denied', data: { reason: 'VALIDATION_FAILED' } });
  expect(audits[4][0]).toMatchObject({ type: 'query.executed', data: { items: ['sex'] } });
  expect(audits[5][0]).toMatchObject({ type: 'query.denied', data: { reason: 'RESOURCE_NOT_FOUND' } });
});

test('a batch without the gateway’s service token cannot set its calls’ source address: the peer’s address is on the record', async () => {
  const { res, requestIds } = await batch([{ authorization: `Bearer ${consumer.token}`, body: { where: { idNumber: inLzh[0].idNumber } } }], false);
  expect(res.body.results[0]).toMatchObject({ status: 200 });
  expect(await auditOf(requestIds[0])).toEqual([expect.objectContaining({ data: expect.objectContaining({ sourceAddress: '127.0.0.1' }) })]);
});

test('a call whose token is missing, forged or of another scheme is refused with 401 and no data', async () => {
  const [h, p, s] = consumer.token.split('.');
  const payload = JSON.parse(Buffer.from(p, 'base64url').toString());
  const forgedPayload = Buffer.from(JSON.stringify({ ...payload, unit: other.unitId, roles: ['office_admin'] })).toString('base64url');
  const none = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
  const where = { where: { idNumber: inLzh[0].idNumber } };
  const { res } = await batch([
    { authorization: '', body: where },
    { authorization: `Bearer ${h}.${forgedPayload}.${s}`, body: where },
    { authorization: `Bearer ${none}.${p}.`, body: where },
    { authorization: `Basic ${Buffer.from('a:b').toString('base64')}`, body: where },
    { authorization: `Bearer ${consumer.token}`, body: where },
  ]);
  expect(res.status).toBe(200);
  const r = res.body.results;
  for (const refused of r.slice(0, 4)) {
    expect(refused).toMatchObject({
      status: 401,
      headers: { 'www-authenticate': expect.stringMatching(/^Bearer/) },
      body: { status: 401, code: expect.stringMatching(/^(UNAUTHENTICATED|TOKEN_INVALID)$/) },
    });
    expect(refused.body.items).toBeUndefined();
  }
  expect(r[4]).toMatchObject({ status: 200, body: { grantId: grant.id } });
});

test('the envelope itself is validated: no calls, too many calls, a call without a request id', async () => {
  const call = { code: CODE, requestId: 'x', authorization: `Bearer ${consumer.token}`, body: { where: {} } };
  const url = dataQueryUrl(platform);
  expect((await request(url).post('/internal/v1/query-batches').send({ calls: [] }).expect(400)).body).toMatchObject({ code: 'VALIDATION_FAILED', field: 'body.calls' });
  expect(
    (
      await request(url)
        .post('/internal/v1/query-batches')
        .send({ calls: Array.from({ length: 257 }, () => call) })
        .expect(400)
    ).body.code,
  ).toBe('VALIDATION_FAILED');
  const { requestId: _omitted, ...noId } = call;
  expect(
    (
      await request(url)
        .post('/internal/v1/query-batches')
        .send({ calls: [noId] })
        .expect(400)
    ).body,
  ).toMatchObject({ code: 'VALIDATION_FAILED', field: 'body.calls.0.requestId' });
});

test('when the audit trail cannot take the records, every call of the batch answers 503 and no data', async () => {
  const app = platform.services['data-query']!;
  app.dataQuery.audit.close();
  const { res } = await batch([
    { authorization: `Bearer ${consumer.token}`, body: { where: { idNumber: inLzh[0].idNumber } } },
    { authorization: `Bearer ${other.token}`, body: { where: { idNumber: inLzh[0].idNumber } } },
  ]);
  expect(res.status).toBe(200);
  for (const r of res.body.results) {
    expect(r).toMatchObject({ status: 503, body: { code: 'AUDIT_UNAVAILABLE' } });
    expect(r.body.items).toBeUndefined();
  }
});
