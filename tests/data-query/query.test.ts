import request from 'supertest';
import { randomUUID } from 'node:crypto';
import { personOf } from '@gdx/data-query/testing';
import type { TestPlatform } from '../helpers/platform';
import type { TestUser } from '../helpers/gateway';
import { dataQueryUrl, enc, EventWriter, grantOf, populationScenario, type Grant } from './support';

let platform: TestPlatform;
let events: EventWriter;
let provider: TestUser;
let consumer: TestUser;
let other: TestUser;
let grant: Grant;
const CODE = '101001/0001';
const url = `/api/v1/query/${enc(CODE)}`;

// personOf spreads people over the local districts in turn: 0 → 340302, 1 → 340303, 7 → 340302 …
const people = Array.from({ length: 10 }, (_, i) => personOf(i));
const inLzh = people.filter((p) => p.regionCode === '340302');
const elsewhere = people.find((p) => p.regionCode !== '340302')!;

beforeAll(async () => {
  // 龙子湖区 may see its own residents only: the row filter of its grant.
  ({ platform, events, provider, consumer, other, grant } = await populationScenario(people));
});
afterAll(async () => {
  events?.close();
  await platform?.close();
});

/** One query straight to data-query, with its own request id so its audit event can be found. */
async function query(user: TestUser, body: object, expectStatus: number, headers: Record<string, string> = {}) {
  const requestId = `test-${randomUUID()}`;
  const res = await request(dataQueryUrl(platform)).post(url).set('authorization', `Bearer ${user.token}`).set('x-request-id', requestId).set(headers).send(body);
  expect({ status: res.status, body: res.body }).toMatchObject({ status: expectStatus });
  const audit = await events.eventsOf('query', (e) => e.data.requestId === requestId);
  return { res, audit };
}

test('a granted query returns only granted items, masked, and leaves one audit event', async () => {
  const p = inLzh[0];
  const { res, audit } = await query(consumer, { where: { idNumber: p.idNumber } }, 200, { 'x-forwarded-for': '10.1.2.3, 10.0.0.1' });
  expect(res.body).toEqual({ items: [{ idNumber: `${p.idNumber.slice(0, 6)}********${p.idNumber.slice(-4)}`, name: '张*', sex: p.sex, regionCode: '340302' }], nextCursor: null, grantId: grant.id });
  expect(audit).toHaveLength(1);
  expect(audit[0]).toMatchObject({
    type: 'query.executed',
    subject: CODE,
    data: { unitId: consumer.unitId, accountId: consumer.id, grantId: grant.id, resourceCode: CODE, providerUnitId: provider.unitId, items: ['idNumber', 'name', 'sex', 'regionCode'], rowCount: 1, result: 'allowed', sourceAddress: '10.1.2.3', via: 'data-query', latencyMs: expect.any(Number) },
  });
});

test('the row filter is ANDed: a person outside the consumer’s district is not found', async () => {
  const { res, audit } = await query(consumer, { where: { idNumber: elsewhere.idNumber }, items: ['sex'] }, 200);
  expect(res.body.items).toEqual([]);
  expect(audit).toEqual([expect.objectContaining({ type: 'query.executed', data: expect.objectContaining({ rowCount: 0, items: ['sex'] }) })]);
});

test('in-lists and cursor paging stay inside the filter', async () => {
  const regions = { regionCode: { in: ['340302', '340303'] } };
  const first = await query(consumer, { where: regions, items: ['idNumber'], limit: 1 }, 200);
  expect(first.res.body.items).toHaveLength(1);
  expect(first.res.body.nextCursor).toEqual(expect.any(String));
  const seen = [first.res.body.items[0].idNumber];
  let cursor = first.res.body.nextCursor;
  while (cursor) {
    const next = await query(consumer, { where: regions, items: ['idNumber'], limit: 1, cursor }, 200);
    seen.push(...next.res.body.items.map((r: { idNumber: string }) => r.idNumber));
    cursor = next.res.body.nextCursor;
  }
  expect(seen).toHaveLength(inLzh.length);
  expect(new Set(seen)).toEqual(new Set(inLzh.map((p) => `${p.idNumber.slice(0, 6)}********${p.idNumber.slice(-4)}`)));
  await query(consumer, { where: regions, cursor: 'not-a-cursor' }, 400);
});

test('an item outside the grant is refused with the item named', async () => {
  const { res, audit } = await query(consumer, { where: { idNumber: inLzh[0].idNumber }, items: ['name', 'birthDate'] }, 403);
  expect(res.body).toMatchObject({ code: 'ITEM_NOT_GRANTED', item: 'birthDate' });
  expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
  expect(audit).toEqual([expect.objectContaining({ type: 'query.denied', data: expect.objectContaining({ result: 'denied', reason: 'ITEM_NOT_GRANTED', grantId: grant.id, rowCount: 0 }) })]);
});

test('conditions only on query keys, ranges only on dates and numbers', async () => {
  const notKey = await query(consumer, { where: { name: '张三0' } }, 400);
  expect(notKey.res.body.code).toBe('NOT_A_QUERY_KEY');
  expect(notKey.audit).toEqual([expect.objectContaining({ type: 'query.denied', data: expect.objectContaining({ reason: 'NOT_A_QUERY_KEY' }) })]);
  expect((await query(consumer, { where: { regionCode: { gte: '340300' } } }, 400)).res.body.code).toBe('RANGE_NOT_ALLOWED');
  expect((await query(consumer, { where: {} }, 400)).res.body.code).toBe('CONDITION_REQUIRED');
  expect((await query(consumer, { where: { regionCode: { in: Array.from({ length: 101 }, () => '340302') } } }, 400)).res.body.code).toBe('TOO_MANY_VALUES');
  const invalid = await query(consumer, { where: { idNumber: 'x' }, extra: true }, 400);
  expect(invalid.audit).toHaveLength(1);
});

test('an unknown resource is refused, and audited like any other refusal', async () => {
  const requestId = `test-${randomUUID()}`;
  const res = await request(dataQueryUrl(platform)).post(`/api/v1/query/${enc('999999/0001')}`).set('authorization', `Bearer ${consumer.token}`).set('x-request-id', requestId).send({ where: { idNumber: inLzh[0].idNumber } }).expect(404);
  expect(res.body.code).toBe('RESOURCE_NOT_FOUND');
  expect(await events.eventsOf('query', (e) => e.data.requestId === requestId)).toEqual([expect.objectContaining({ type: 'query.denied', data: expect.objectContaining({ reason: 'RESOURCE_NOT_FOUND', resourceCode: '999999/0001', providerUnitId: null }) })]);
});

test('no grant, a grant without the interface mode, an expired grant → 403 with the condition named', async () => {
  const none = await query(other, { where: { idNumber: inLzh[0].idNumber } }, 403);
  expect(none.res.body.code).toBe('NO_GRANT');
  expect(none.audit).toEqual([expect.objectContaining({ type: 'query.denied', data: expect.objectContaining({ reason: 'NO_GRANT', grantId: null, unitId: other.unitId }) })]);

  const callOnly = grantOf({ consumerUnitId: other.unitId, providerUnitId: provider.unitId, resourceCode: CODE, items: ['idNumber'], modes: ['data-call'] });
  await events.grant(callOnly);
  const mode = await query(other, { where: { idNumber: inLzh[0].idNumber } }, 403);
  expect(mode.res.body.code).toBe('MODE_NOT_GRANTED');
  expect(mode.audit).toHaveLength(1);

  const lapsed = grantOf({ consumerUnitId: other.unitId, providerUnitId: provider.unitId, resourceCode: CODE, items: ['idNumber'], validFrom: new Date(Date.now() - 10 * 86_400_000).toISOString(), validTo: new Date(Date.now() - 86_400_000).toISOString() });
  await events.grant(lapsed);
  const expired = await query(other, { where: { idNumber: inLzh[0].idNumber } }, 403);
  expect(expired.res.body).toMatchObject({ code: 'GRANT_EXPIRED' });
  expect(expired.audit).toEqual([expect.objectContaining({ data: expect.objectContaining({ reason: 'GRANT_EXPIRED', grantId: lapsed.id }) })]);

  await events.grant({ ...lapsed, validTo: new Date(Date.now() + 86_400_000).toISOString(), status: 'expired', version: 2 }, 'grant.expired');
  expect((await query(other, { where: { idNumber: inLzh[0].idNumber } }, 403)).res.body.code).toBe('GRANT_EXPIRED');
});

test('suspension, resumption and revocation take effect; a stale event does not undo a newer one', async () => {
  const where = { where: { idNumber: inLzh[0].idNumber } };
  await events.grant({ ...grant, status: 'suspended', version: 2 }, 'grant.suspended');
  const suspended = await query(consumer, where, 403);
  expect(suspended.res.body).toMatchObject({ code: 'GRANT_NOT_ACTIVE', grantStatus: 'suspended' });
  expect(suspended.audit).toEqual([expect.objectContaining({ data: expect.objectContaining({ reason: 'GRANT_NOT_ACTIVE' }) })]);

  await events.grant({ ...grant, status: 'active', version: 3 }, 'grant.resumed');
  await events.grant({ ...grant, status: 'suspended', version: 2 }, 'grant.suspended'); // redelivered late
  await query(consumer, where, 200);

  await events.grant({ ...grant, status: 'revoked', version: 4 }, 'grant.revoked');
  const revoked = await query(consumer, where, 403);
  expect(revoked.res.body).toMatchObject({ code: 'GRANT_NOT_ACTIVE', grantStatus: 'revoked' });
  expect(revoked.audit).toHaveLength(1);
});

test('a grant may let personal items through unmasked', async () => {
  const p = inLzh[0];
  const open = grantOf({ consumerUnitId: other.unitId, providerUnitId: provider.unitId, resourceCode: CODE, items: ['idNumber', 'name', 'householdAddress'], maskPersonal: false });
  await events.grant(open);
  const { res } = await query(other, { where: { idNumber: p.idNumber } }, 200);
  expect(res.body).toMatchObject({ items: [{ idNumber: p.idNumber, name: expect.stringMatching(/^张三\d$/), householdAddress: expect.stringMatching(/^安徽省蚌埠市\d号$/) }], grantId: open.id });
});

test('when the audit trail cannot take the record, the answer is 503 and no data', async () => {
  const app = platform.services['data-query']!;
  app.dataQuery.audit.close();
  const res = await request(dataQueryUrl(platform)).post(url).set('authorization', `Bearer ${other.token}`).send({ where: { idNumber: inLzh[0].idNumber } }).expect(503);
  expect(res.body).toMatchObject({ code: 'AUDIT_UNAVAILABLE' });
  expect(res.body.items).toBeUndefined();
  const denied = await request(dataQueryUrl(platform)).post(url).set('authorization', `Bearer ${consumer.token}`).send({ where: { name: 'x' } }).expect(503);
  expect(denied.body.code).toBe('AUDIT_UNAVAILABLE');
});

test('the OpenAPI document describes both routes, the batch body types and the denial codes', async () => {
  const doc = (await request(dataQueryUrl(platform)).get('/openapi.json').expect(200)).body;
  const query = doc.paths['/api/v1/query/{code}'].post;
  expect(Object.keys(query.responses)).toEqual(expect.arrayContaining(['200', '400', '403', '503']));
  expect(query.description).toMatch(/NO_GRANT/);
  const batches = doc.paths['/api/v1/data/{code}/batches'].post;
  expect(Object.keys(batches.requestBody.content).sort()).toEqual(['application/json', 'application/x-ndjson', 'text/csv']);
  expect(Object.keys(batches.responses)).toEqual(expect.arrayContaining(['200', '422']));
});
