import request from 'supertest';
import { buildApp, loadDataQueryConfig } from '@gdx/data-query';
import type { App } from '@gdx/service-kit';
import { personOf } from '@gdx/data-query/testing';
import { startPlatform, type TestPlatform } from '../helpers/platform';
import { addUser, type TestUser } from '../helpers/gateway';
import { REDIS_URL } from '../helpers/redis';
import { dataQueryUrl, enc, EventWriter, grantOf, starterResource } from './support';

/**
 * Two data-query replicas share one consumer group: each grant event is handled
 * by one of them, and the other must still follow (LISTEN/NOTIFY) within a second.
 */
let platform: TestPlatform;
let events: EventWriter;
let second: App;
let provider: TestUser;
let consumer: TestUser;
const CODE = '101001/0001';
const person = personOf(0);

beforeAll(async () => {
  platform = await startPlatform(['data-query']);
  events = new EventWriter(platform);
  const config = loadDataQueryConfig(
    {},
    {
      databaseUrl: platform.db.url,
      redisUrl: REDIS_URL,
      streamPrefix: platform.prefix,
      migrateOnStart: false,
      logLevel: 'silent',
      databasePoolSize: 2,
      jwksUrl: `${platform.gatewayUrl}/.well-known/jwks.json`,
      consumerName: 'replica-2',
    },
  );
  second = await buildApp({ config, logger: false });
  await second.listen({ host: '127.0.0.1', port: 0 });
  provider = await addUser(platform.gateway, 'GA', ['unit_admin']);
  consumer = await addUser(platform.gateway, 'LZH', ['unit_operator']);
  await events.resource(starterResource(CODE, provider.unitId));
  const row = { idNumber: person.idNumber, name: '张三', sex: person.sex, birthDate: person.birthDate, regionCode: person.regionCode };
  await request(dataQueryUrl(platform))
    .post(`/api/v1/data/${enc(CODE)}/batches`)
    .set('authorization', `Bearer ${provider.token}`)
    .set('content-type', 'application/x-ndjson')
    .send(JSON.stringify(row))
    .expect(200);
});
afterAll(async () => {
  events?.close();
  await second?.close();
  await platform?.close();
});

async function statusWithin(url: string, want: number, ms = 1000): Promise<number> {
  const deadline = Date.now() + ms;
  let status = 0;
  do {
    status = (
      await request(url)
        .post(`/api/v1/query/${enc(CODE)}`)
        .set('authorization', `Bearer ${consumer.token}`)
        .send({ where: { idNumber: person.idNumber } })
    ).status;
    if (status === want) return status;
    await new Promise((r) => setTimeout(r, 20));
  } while (Date.now() < deadline);
  return status;
}

test('a grant issued, then revoked, takes effect on both replicas within a second', async () => {
  const urls = [dataQueryUrl(platform), `http://127.0.0.1:${(second.server.address() as { port: number }).port}`];
  const grant = grantOf({ consumerUnitId: consumer.unitId, providerUnitId: provider.unitId, resourceCode: CODE, items: ['idNumber', 'sex'] });
  await events.grant(grant);
  expect(await Promise.all(urls.map((u) => statusWithin(u, 200)))).toEqual([200, 200]);
  await events.grant({ ...grant, status: 'revoked', version: 2 }, 'grant.revoked');
  expect(await Promise.all(urls.map((u) => statusWithin(u, 403)))).toEqual([403, 403]);
});

test('many concurrent lookups, batched together, each get their own row only', async () => {
  const grant = grantOf({
    consumerUnitId: consumer.unitId,
    providerUnitId: provider.unitId,
    resourceCode: CODE,
    items: ['idNumber', 'sex'],
    clearItems: ['idNumber'],
    rowFilter: { all: [{ key: 'regionCode', op: 'in', value: [person.regionCode] }] },
  });
  await events.grant(grant);
  const ids = [person.idNumber, ...Array.from({ length: 30 }, (_, i) => personOf(100 + i).idNumber)];
  const answers = await Promise.all(
    ids.map((id) =>
      request(dataQueryUrl(platform))
        .post(`/api/v1/query/${enc(CODE)}`)
        .set('authorization', `Bearer ${consumer.token}`)
        .send({ where: { idNumber: id } }),
    ),
  );
  expect(answers.map((a) => a.status)).toEqual(ids.map(() => 200));
  expect(answers[0].body.items).toEqual([{ idNumber: person.idNumber, sex: person.sex }]);
  expect(answers.slice(1).map((a) => a.body.items)).toEqual(ids.slice(1).map(() => []));
  expect(platform.services['data-query']!.dataQuery.points.stats.lookups).toBeGreaterThanOrEqual(ids.length);
});
