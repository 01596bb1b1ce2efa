import request from 'supertest';
import { request as httpRequest } from 'node:http';
import { randomUUID } from 'node:crypto';
import { personOf } from '@gdx/data-query/testing';
import { startPlatform, type TestPlatform } from '../helpers/platform';
import { addUser, type TestUser } from '../helpers/gateway';
import { eventually } from '../helpers/wait';
import { dataQueryUrl, enc, EventWriter, grantOf, starterResource, type Grant } from '../data-query/support';

/**
 * Interface queries through the gateway travel to data-query in batches: many at
 * once must each come back with their own answer and their own audit record.
 */
let platform: TestPlatform;
let events: EventWriter;
let consumer: TestUser;
let grant: Grant;
const CODE = '101001/0001';
const people = Array.from({ length: 40 }, (_, i) => personOf(i));
const masked = (id: string) => `${id.slice(0, 6)}********${id.slice(-4)}`;

beforeAll(async () => {
  // One batch out at a time, so that concurrent calls must share batches.
  platform = await startPlatform(['request-approval', 'data-query'], { gateway: { queryBatchesInFlight: 1 } });
  events = new EventWriter(platform);
  const provider = await addUser(platform.gateway, 'GA', ['unit_admin']);
  consumer = await addUser(platform.gateway, 'LZH', ['unit_admin']);
  await events.resource(starterResource(CODE, provider.unitId));
  const rows = people.map((p, i) => JSON.stringify({ idNumber: p.idNumber, name: `李四${i}`, sex: p.sex, birthDate: p.birthDate, regionCode: p.regionCode })).join('\n');
  await request(dataQueryUrl(platform))
    .post(`/api/v1/data/${enc(CODE)}/batches`)
    .set('authorization', `Bearer ${provider.token}`)
    .set('content-type', 'application/x-ndjson')
    .send(rows)
    .expect(200);
  grant = grantOf({
    consumerUnitId: consumer.unitId,
    providerUnitId: provider.unitId,
    resourceCode: CODE,
    items: ['idNumber', 'name', 'birthDate'],
    rateLimitPerSecond: 10_000,
    dailyQuota: 1_000_000,
  });
  await events.grant(grant);
  await eventually(
    async () => {
      const res = await request(platform.gatewayUrl)
        .post(`/api/v1/query/${enc(CODE)}`)
        .set('authorization', `Bearer ${consumer.token}`)
        .send({ where: { idNumber: people[0].idNumber } });
      return res.status === 200;
    },
    15_000,
    'the grant at the gateway',
  );
});
afterAll(async () => {
  events?.close();
  await platform?.close();
});

const metric = (text: string, name: string) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\d+)`, 'm').exec(text)?.[1]);

test('40 concurrent queries each get their own person, masked, with one audit event each, in fewer exchanges', async () => {
  const before = (await request(platform.gatewayUrl).get('/metrics').expect(200)).text;
  const calls = people.map((p) => ({ p, requestId: `gw-${randomUUID()}` }));
  const answers = await Promise.all(
    calls.map(({ p, requestId }) =>
      request(platform.gatewayUrl)
        .post(`/api/v1/query/${enc(CODE)}`)
        .set('authorization', `Bearer ${consumer.token}`)
        .set('x-request-id', requestId)
        .send({ where: { idNumber: p.idNumber }, items: ['idNumber', 'birthDate'] }),
    ),
  );
  answers.forEach((res, i) => {
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers['x-request-id']).toBe(calls[i].requestId);
    expect(res.headers['ratelimit-limit']).toBe('10000');
    expect(res.body).toEqual({ items: [{ idNumber: masked(calls[i].p.idNumber), birthDate: calls[i].p.birthDate }], nextCursor: null, grantId: grant.id });
  });
  for (const { requestId } of calls) {
    const audit = await events.eventsOf('query', (e) => e.data.requestId === requestId);
    expect(audit).toEqual([expect.objectContaining({ type: 'query.executed', data: expect.objectContaining({ unitId: consumer.unitId, grantId: grant.id, rowCount: 1, via: 'data-query' }) })]);
  }
  const after = (await request(platform.gatewayUrl).get('/metrics').expect(200)).text;
  const callsSent = metric(after, 'gdx_gateway_query_channel_calls') - metric(before, 'gdx_gateway_query_channel_calls');
  const batches = metric(after, 'gdx_gateway_query_channel_batches') - metric(before, 'gdx_gateway_query_channel_batches');
  expect(callsSent).toBe(40);
  expect(batches).toBeLessThan(40);
});

test('a call with a malformed traceparent or an odd resource code spoils no other call of its batch', async () => {
  const ask = (code: string, headers: Record<string, string> = {}) =>
    request(platform.gatewayUrl)
      .post(`/api/v1/query/${enc(code)}`)
      .set('authorization', `Bearer ${consumer.token}`)
      .set(headers)
      .send({ where: { idNumber: people[1].idNumber }, items: ['birthDate'] });
  const answers = await Promise.all([ask(CODE), ask(CODE, { traceparent: `00-${'x'.repeat(300)}` }), ask('Z'), ask(CODE)]);
  expect(answers.map((r) => r.status)).toEqual([200, 200, 403, 200]);
  expect(answers[1].body.items).toEqual([{ birthDate: people[1].birthDate }]);
  // The gateway knows no grant for a resource "Z": refused before any batch.
  expect(answers[2].body.code).toBe('NO_GRANT');
});

test('through the gateway, the address the gateway saw is on the record, not a forwarded one the caller wrote', async () => {
  // The caller connects from another loopback address than data-query's peer (the gateway, 127.0.0.1).
  const requestId = `gw-${randomUUID()}`;
  const status = await new Promise<number | undefined>((resolve, reject) => {
    const url = new URL(`/api/v1/query/${enc(CODE)}`, platform.gatewayUrl);
    const req = httpRequest({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', localAddress: '127.0.0.2' }, (res) => res.resume().on('end', () => resolve(res.statusCode)));
    req.on('error', reject);
    req.setHeader('authorization', `Bearer ${consumer.token}`);
    req.setHeader('content-type', 'application/json');
    req.setHeader('x-request-id', requestId);
    req.setHeader('x-forwarded-for', '10.6.6.6');
    req.end(JSON.stringify({ where: { idNumber: people[2].idNumber }, items: ['birthDate'] }));
  });
  expect(status).toBe(200);
  expect(await events.eventsOf('query', (e) => e.data.requestId === requestId)).toEqual([expect.objectContaining({ data: expect.objectContaining({ sourceAddress: '127.0.0.2' }) })]);
});

test('a refusal from data-query reaches the caller as its problem document with the caller’s request id', async () => {
  const requestId = `gw-${randomUUID()}`;
  // Allowed by the gateway's grant decision (an item it knows nothing against), refused by data-query: no such item.
  const res = await request(platform.gatewayUrl)
    .post(`/api/v1/query/${enc(CODE)}`)
    .set('authorization', `Bearer ${consumer.token}`)
    .set('x-request-id', requestId)
    .send({ where: { name: '李四0' } });
  expect(res.status).toBe(400);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(res.body).toMatchObject({ status: 400, requestId, instance: `/api/v1/query/${enc(CODE)}` });
  expect(await events.eventsOf('query', (e) => e.data.requestId === requestId)).toHaveLength(1);
});
