import request from 'supertest';
import { randomUUID } from 'node:crypto';
import { personOf } from '@gdx/data-query/testing';
import type { TestPlatform } from '../helpers/platform';
import { addUser, type TestUser } from '../helpers/gateway';
import { decidable, decideGrant, untypedEvent, type ItemView } from '@gdx/contracts';
import { dataQueryUrl, enc, EventWriter, grantOf, populationScenario, starterResource, type Grant } from './support';

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
  // The gateway vouches for the forwarded address with its service token.
  const { res, audit } = await query(consumer, { where: { idNumber: p.idNumber } }, 200, { 'x-forwarded-for': '10.1.2.3, 10.0.0.1', 'gdx-service-token': platform.gateway.serviceToken() });
  expect(res.body).toEqual({ items: [{ idNumber: `${p.idNumber.slice(0, 6)}********${p.idNumber.slice(-4)}`, name: '张**', sex: p.sex, regionCode: '340302' }], nextCursor: null, grantId: grant.id });
  expect(audit).toHaveLength(1);
  expect(audit[0]).toMatchObject({
    type: 'query.executed',
    subject: CODE,
    data: {
      unitId: consumer.unitId,
      accountId: consumer.id,
      grantId: grant.id,
      resourceCode: CODE,
      providerUnitId: provider.unitId,
      items: ['idNumber', 'name', 'sex', 'regionCode'],
      rowCount: 1,
      result: 'allowed',
      sourceAddress: '10.1.2.3',
      via: 'data-query',
      latencyMs: expect.any(Number),
    },
  });
});

test('the keys asked for reach the record as keyed digests, never in clear; an identity number as the digest of its region and birth date with its sequence code', async () => {
  const [a, b] = inLzh;
  const first = (await query(consumer, { where: { idNumber: a.idNumber } }, 200)).audit[0].data;
  const again = (await query(consumer, { where: { idNumber: { in: [a.idNumber, b.idNumber] } } }, 200)).audit[0].data;
  expect(first.keys).toEqual([{ digest: expect.stringMatching(/^[0-9a-f]{16}$/), seq: Number(a.idNumber.slice(14, 17)) }]);
  const keys = again.keys as { digest: string; seq: number }[];
  expect(keys).toHaveLength(2);
  // The same number digests alike on every call; the record holds no part of it in clear.
  expect(keys[0]).toEqual((first.keys as unknown[])[0]);
  expect(JSON.stringify(again)).not.toContain(a.idNumber.slice(0, 14));
  expect(JSON.stringify(again)).not.toContain(b.idNumber);
  // Born on another day or elsewhere: another digest.
  expect(keys[1].digest === keys[0].digest).toBe(a.idNumber.slice(0, 14) === b.idNumber.slice(0, 14));
});

test('a forwarded address without the gateway’s word is not believed: the peer’s address is on the record', async () => {
  const where = { where: { idNumber: inLzh[0].idNumber } };
  const forged = await query(consumer, where, 200, { 'x-forwarded-for': '10.6.6.6' });
  // A caller's own bearer token in the service-token header is not the gateway's word either.
  const borrowed = await query(consumer, where, 200, { 'x-forwarded-for': '10.6.6.6', 'gdx-service-token': consumer.token });
  for (const { audit } of [forged, borrowed]) expect(audit).toEqual([expect.objectContaining({ data: expect.objectContaining({ sourceAddress: '127.0.0.1' }) })]);
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

test('ranges on a date query key: inclusive bounds; an empty range or an impossible date is 400', async () => {
  const code = '399002/0001';
  const items: ItemView[] = [
    { key: 'permitNo', label: '许可证号', type: 'string', length: 30, required: true, queryKey: true, sensitivity: 'public' },
    { key: 'issued', label: '发证日期', type: 'date', required: false, queryKey: true, sensitivity: 'public' },
  ];
  await events.resource(starterResource('105001/0001', provider.unitId, { code, items, queryKeys: ['permitNo', 'issued'] }));
  const rows = [
    { permitNo: 'P-1', issued: '2025-01-10' },
    { permitNo: 'P-2', issued: '2025-01-31' },
    { permitNo: 'P-3', issued: '2025-03-10' },
  ];
  await request(dataQueryUrl(platform))
    .post(`/api/v1/data/${enc(code)}/batches`)
    .set('authorization', `Bearer ${provider.token}`)
    .set('content-type', 'application/x-ndjson')
    .send(rows.map((r) => JSON.stringify(r)).join('\n'))
    .expect(200);
  const unit = await addUser(platform.gateway, 'SCJG', ['unit_admin']);
  await events.grant(grantOf({ consumerUnitId: unit.unitId, providerUnitId: provider.unitId, resourceCode: code, items: ['permitNo', 'issued'] }));
  const ask = (where: object, status: number) =>
    request(dataQueryUrl(platform))
      .post(`/api/v1/query/${enc(code)}`)
      .set('authorization', `Bearer ${unit.token}`)
      .send({ where })
      .expect(status);
  expect((await ask({ issued: { gte: '2025-01-10', lte: '2025-01-31' } }, 200)).body.items).toEqual(rows.slice(0, 2));
  expect((await ask({ issued: { gte: '2025-02-01', lte: '2025-01-01' } }, 400)).body).toMatchObject({ code: 'INVALID_CONDITION', field: 'body.where.issued' });
  expect((await ask({ issued: { gte: '2025-02-30' } }, 400)).body).toMatchObject({ code: 'INVALID_CONDITION', field: 'body.where.issued.gte' });
});

test('an unknown resource is refused, and audited like any other refusal', async () => {
  const requestId = `test-${randomUUID()}`;
  const res = await request(dataQueryUrl(platform))
    .post(`/api/v1/query/${enc('999999/0001')}`)
    .set('authorization', `Bearer ${consumer.token}`)
    .set('x-request-id', requestId)
    .send({ where: { idNumber: inLzh[0].idNumber } })
    .expect(404);
  expect(res.body.code).toBe('RESOURCE_NOT_FOUND');
  expect(await events.eventsOf('query', (e) => e.data.requestId === requestId)).toEqual([
    expect.objectContaining({ type: 'query.denied', data: expect.objectContaining({ reason: 'RESOURCE_NOT_FOUND', resourceCode: '999999/0001', providerUnitId: null }) }),
  ]);
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

  const lapsed = grantOf({
    consumerUnitId: other.unitId,
    providerUnitId: provider.unitId,
    resourceCode: CODE,
    items: ['idNumber'],
    validFrom: new Date(Date.now() - 10 * 86_400_000).toISOString(),
    validTo: new Date(Date.now() - 86_400_000).toISOString(),
  });
  await events.grant(lapsed);
  const expired = await query(other, { where: { idNumber: inLzh[0].idNumber } }, 403);
  expect(expired.res.body).toMatchObject({ code: 'GRANT_EXPIRED' });
  expect(expired.audit).toEqual([expect.objectContaining({ data: expect.objectContaining({ reason: 'GRANT_EXPIRED', grantId: lapsed.id }) })]);

  await events.grant({ ...lapsed, validTo: new Date(Date.now() + 86_400_000).toISOString(), status: 'expired', version: 2 }, 'grant.expired');
  expect((await query(other, { where: { idNumber: inLzh[0].idNumber } }, 403)).res.body.code).toBe('GRANT_EXPIRED');
});

test('a grant whose validity has not begun → 403 GRANT_NOT_YET_VALID naming the grant', async () => {
  const unit = await addUser(platform.gateway, 'MZ', ['unit_admin']);
  const early = grantOf({ consumerUnitId: unit.unitId, providerUnitId: provider.unitId, resourceCode: CODE, items: ['name'], validFrom: new Date(Date.now() + 86_400_000).toISOString() });
  await events.grant(early);
  const { res, audit } = await query(unit, { where: { idNumber: inLzh[0].idNumber } }, 403);
  expect(res.body).toMatchObject({ code: 'GRANT_NOT_YET_VALID', grantId: early.id, detail: expect.stringContaining(early.validFrom.slice(0, 10)) });
  expect(audit).toEqual([expect.objectContaining({ data: expect.objectContaining({ reason: 'GRANT_NOT_YET_VALID', grantId: early.id }) })]);
});

test('two active grants for one resource: the one covering the asked items answers, whatever order they arrived in (the gateway’s decision)', async () => {
  const p = inLzh[0];
  for (const [unitKey, order] of [
    ['RS', 'a then b'],
    ['WJ', 'b then a'],
  ] as const) {
    const unit = await addUser(platform.gateway, unitKey, ['unit_admin']);
    // Both cover idNumber: the condition names it, and conditions are only on granted items.
    const a = grantOf({ consumerUnitId: unit.unitId, providerUnitId: provider.unitId, resourceCode: CODE, items: ['idNumber', 'name'] });
    const b = grantOf({ consumerUnitId: unit.unitId, providerUnitId: provider.unitId, resourceCode: CODE, items: ['idNumber', 'name', 'householdAddress'] });
    for (const g of order === 'a then b' ? [a, b] : [b, a]) await events.grant(g);
    // What the gateway decides for the same grants: the one rule of the contracts.
    expect(decideGrant([a, b].map(decidable), 'interface', ['householdAddress'], Date.now())).toMatchObject({ ok: true, grant: { id: b.id } });
    const { res, audit } = await query(unit, { where: { idNumber: p.idNumber }, items: ['householdAddress'] }, 200);
    expect({ order, body: res.body }).toEqual({ order, body: { items: [{ householdAddress: '***' }], nextCursor: null, grantId: b.id } });
    expect(audit).toEqual([expect.objectContaining({ type: 'query.executed', data: expect.objectContaining({ grantId: b.id, items: ['householdAddress'] }) })]);
  }
});

test('a grant event of another shape is dead-lettered with the reason, and the valid event after it is still applied', async () => {
  const unit = await addUser(platform.gateway, 'ZJ', ['unit_admin']);
  const g = grantOf({ consumerUnitId: unit.unitId, providerUnitId: provider.unitId, resourceCode: CODE, items: ['idNumber', 'sex'] });
  // Same grant, same version, a status the contracts do not know: applied, it would shadow the valid event.
  const bad = untypedEvent('grant.issued', { actor: { kind: 'system' }, subject: g.id, data: { ...g, status: 'paused' } });
  const badEntry = await events.publishEnvelope(bad);
  await events.grant(g);
  const dead = (await events.deadLetters()).filter((d) => d.group === 'data-query' && d.entryId === badEntry);
  expect(dead).toEqual([expect.objectContaining({ reason: expect.stringMatching(/^invalid event: grant\.issued data\.status/), deliveries: '1' })]);
  expect(JSON.parse(dead[0].event).id).toBe(bad.id);
  const { res } = await query(unit, { where: { idNumber: inLzh[0].idNumber }, items: ['sex'] }, 200);
  expect(res.body).toEqual({ items: [{ sex: inLzh[0].sex }], nextCursor: null, grantId: g.id });
});

test('suspension, resumption and revocation take effect; a stale event does not undo a newer one', async () => {
  const where = { where: { idNumber: inLzh[0].idNumber } };
  await events.grant({ ...grant, status: 'suspended', version: 2 }, 'grant.suspended');
  const suspended = await query(consumer, where, 403);
  expect(suspended.res.body).toMatchObject({ code: 'GRANT_NOT_ACTIVE', grantId: grant.id, detail: expect.stringMatching(/suspended/) });
  expect(suspended.audit).toEqual([expect.objectContaining({ data: expect.objectContaining({ reason: 'GRANT_NOT_ACTIVE' }) })]);

  await events.grant({ ...grant, status: 'active', version: 3 }, 'grant.resumed');
  await events.grant({ ...grant, status: 'suspended', version: 2 }, 'grant.suspended'); // redelivered late
  await query(consumer, where, 200);

  await events.grant({ ...grant, status: 'revoked', version: 4 }, 'grant.revoked');
  const revoked = await query(consumer, where, 403);
  expect(revoked.res.body).toMatchObject({ code: 'GRANT_NOT_ACTIVE', grantId: grant.id, detail: expect.stringMatching(/revoked/) });
  expect(revoked.audit).toHaveLength(1);
});

test('a grant lets the personal items it lists through unmasked, and only those', async () => {
  const p = inLzh[0];
  const open = grantOf({ consumerUnitId: other.unitId, providerUnitId: provider.unitId, resourceCode: CODE, items: ['idNumber', 'name', 'householdAddress'], clearItems: ['idNumber', 'name'] });
  await events.grant(open);
  const { res } = await query(other, { where: { idNumber: p.idNumber } }, 200);
  expect(res.body).toMatchObject({ items: [{ idNumber: p.idNumber, name: expect.stringMatching(/^张三\d$/), householdAddress: '***' }], grantId: open.id });
});

test('a condition on an item the grant does not cover is refused (403 ITEM_NOT_GRANTED naming the condition), and audited', async () => {
  // regionCode is a query key of the resource, but not in this unit's grant: narrowing on it would reveal where a person lives.
  const unit = await addUser(platform.gateway, 'TJ', ['unit_admin']);
  const narrow = grantOf({ consumerUnitId: unit.unitId, providerUnitId: provider.unitId, resourceCode: CODE, items: ['idNumber', 'sex'] });
  await events.grant(narrow);
  const p = inLzh[0];
  const { res, audit } = await query(unit, { where: { idNumber: p.idNumber, regionCode: p.regionCode }, items: ['sex'] }, 403);
  expect(res.body).toMatchObject({ code: 'ITEM_NOT_GRANTED', field: 'body.where.regionCode', item: 'regionCode', grantId: narrow.id });
  expect(res.body.items).toBeUndefined();
  expect(audit).toEqual([expect.objectContaining({ type: 'query.denied', data: expect.objectContaining({ reason: 'ITEM_NOT_GRANTED', grantId: narrow.id, rowCount: 0 }) })]);
  // Conditions on granted items only: answered.
  expect((await query(unit, { where: { idNumber: p.idNumber }, items: ['sex'] }, 200)).res.body.items).toEqual([{ sex: p.sex }]);
});

test('when the audit trail cannot take the record, the answer is 503 and no data', async () => {
  const app = platform.services['data-query']!;
  app.dataQuery.audit.close();
  const res = await request(dataQueryUrl(platform))
    .post(url)
    .set('authorization', `Bearer ${other.token}`)
    .send({ where: { idNumber: inLzh[0].idNumber } })
    .expect(503);
  expect(res.body).toMatchObject({ code: 'AUDIT_UNAVAILABLE' });
  expect(res.body.items).toBeUndefined();
  const denied = await request(dataQueryUrl(platform))
    .post(url)
    .set('authorization', `Bearer ${consumer.token}`)
    .send({ where: { name: 'x' } })
    .expect(503);
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
