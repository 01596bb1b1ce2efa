import request from 'supertest';
import { createHash, randomUUID } from 'node:crypto';
import { personOf } from '@gdx/data-query/testing';
import { startPlatform, type TestPlatform } from '../helpers/platform';
import { addUser, type TestUser } from '../helpers/gateway';
import { eventually } from '../helpers/wait';
import { dataQueryUrl, enc, EventWriter, grantOf, starterResource } from '../data-query/support';

/**
 * Issue 12, traceable deliveries (Art. 19): the office auditor gives a leaked file, its SHA-256
 * or a sample of its rows, and the trail says which delivery could have produced it, with its
 * recipient and time.
 */
const CODE = '101001/0001';
let platform: TestPlatform;
let events: EventWriter;
let provider: TestUser;
let district: TestUser;
let civil: TestUser;
let auditor: TestUser;
const people = Array.from({ length: 120 }, (_, i) => personOf(i));
const bearer = (u: TestUser) => ({ authorization: `Bearer ${u.token}` });

beforeAll(async () => {
  platform = await startPlatform(['request-approval', 'data-query', 'audit']);
  events = new EventWriter(platform);
  provider = await addUser(platform.gateway, 'GA', ['unit_admin']);
  district = await addUser(platform.gateway, 'LZH', ['unit_admin']);
  civil = await addUser(platform.gateway, 'MZ', ['unit_admin']);
  auditor = await addUser(platform.gateway, 'OFFICE', ['office_auditor']);
  await events.resource(starterResource(CODE, provider.unitId));
  await request(dataQueryUrl(platform))
    .post(`/api/v1/data/${enc(CODE)}/batches`)
    .set(bearer(provider))
    .set('content-type', 'application/x-ndjson')
    .send(people.map((p, i) => JSON.stringify({ idNumber: p.idNumber, name: `钱七${i}`, sex: p.sex, birthDate: p.birthDate, regionCode: p.regionCode })).join('\n'))
    .expect(200);
  // Two recipients with different terms: the district its own residents, three items; civil affairs everyone, two items.
  await events.grant(
    grantOf({
      consumerUnitId: district.unitId,
      providerUnitId: provider.unitId,
      resourceCode: CODE,
      items: ['idNumber', 'name', 'regionCode'],
      modes: ['data-call'],
      rowFilter: { all: [{ key: 'regionCode', op: 'eq', value: '340302' }] },
    }),
  );
  await events.grant(grantOf({ consumerUnitId: civil.unitId, providerUnitId: provider.unitId, resourceCode: CODE, items: ['idNumber', 'birthDate'], modes: ['data-call'] }));
});
afterAll(async () => {
  events?.close();
  await platform?.close();
});

const gw = () => request(platform.gatewayUrl);

async function pulled(user: TestUser, accept = 'application/x-ndjson') {
  const res = await eventually(async () => {
    const r = await gw()
      .get(`/api/v1/data/${enc(CODE)}/records`)
      .set(bearer(user))
      .set('accept', accept);
    return r.status === 200 ? r : undefined;
  });
  const deliveryId = res.headers['gdx-delivery-id'];
  // On the trail before it can be traced.
  await eventually(async () => {
    const r = await gw().get('/api/v1/audit/records').query({ action: 'data.delivered', limit: 100 }).set(bearer(auditor)).expect(200);
    return (r.body.items as { data: { deliveryId: string } }[]).some((x) => x.data.deliveryId === deliveryId);
  });
  return { text: res.text, deliveryId };
}

test('a leaked file, its hash or ten of its rows lead to the delivery that sent them, its recipient and time; only office auditors may ask', async () => {
  const ndjson = await pulled(district);
  const csv = await pulled(civil, 'text/csv');

  // The whole NDJSON file as the recipient kept it (cursor and trailer lines included): an exact match.
  const byFile = await gw().post('/api/v1/audit/trace').set(bearer(auditor)).send({ file: ndjson.text }).expect(200);
  expect(byFile.body.deliveries).toEqual([expect.objectContaining({ deliveryId: ndjson.deliveryId, recipientUnitId: district.unitId, resourceCode: CODE, kind: 'pull', match: 'exact' })]);
  expect(Date.parse(byFile.body.deliveries[0].deliveredAt)).not.toBeNaN();
  // The CSV file by its SHA-256 only.
  const sha256 = createHash('sha256').update(csv.text).digest('hex');
  const byHash = await gw().post('/api/v1/audit/trace').set(bearer(auditor)).send({ sha256 }).expect(200);
  expect(byHash.body.deliveries).toEqual([expect.objectContaining({ deliveryId: csv.deliveryId, recipientUnitId: civil.unitId, match: 'exact', format: 'csv' })]);

  // Ten rows of the NDJSON file, reordered, as a sample: the district's delivery holds them; civil affairs' (other items) does not.
  const rows = ndjson.text
    .split('\n')
    .filter((l) => l.startsWith('{"idNumber"'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  expect(rows.length).toBeGreaterThanOrEqual(10);
  const sample = rows.slice(0, 10).reverse();
  const bySample = await gw().post('/api/v1/audit/trace').set(bearer(auditor)).send({ rows: sample, resourceCode: CODE }).expect(200);
  expect(bySample.body.deliveries).toEqual([expect.objectContaining({ deliveryId: ndjson.deliveryId, recipientUnitId: district.unitId, match: 'sample', matchedRows: 10 })]);
  // A file edited so its hash no longer matches is traced by its rows.
  const edited = `${ndjson.text.split('\n').slice(0, 5).join('\n')}\n`;
  const byEdited = await gw().post('/api/v1/audit/trace').set(bearer(auditor)).send({ file: edited, resourceCode: CODE }).expect(200);
  expect(byEdited.body.deliveries).toEqual([expect.objectContaining({ deliveryId: ndjson.deliveryId, match: 'sample', matchedRows: 5 })]);
  // Rows nobody received: nothing.
  const none = await gw()
    .post('/api/v1/audit/trace')
    .set(bearer(auditor))
    .send({ rows: [{ idNumber: '340302********9999', name: '无*', regionCode: '340302' }], resourceCode: CODE })
    .expect(200);
  expect(none.body.deliveries).toEqual([]);

  // Refusals: a unit (even a recipient), no input, rows without their resource; straight to data-query's side too.
  for (const u of [district, provider]) expect((await gw().post('/api/v1/audit/trace').set(bearer(u)).send({ sha256 }).expect(403)).body.code).toBe('ROLE_REQUIRED');
  expect((await gw().post('/api/v1/audit/trace').set(bearer(auditor)).send({}).expect(400)).body.code).toBe('TRACE_INPUT_REQUIRED');
  expect((await gw().post('/api/v1/audit/trace').set(bearer(auditor)).send({ rows: sample }).expect(400)).body.code).toBe('RESOURCE_REQUIRED');
  const direct = await gw()
    .post(`/api/v1/data/${enc(CODE)}/trace`)
    .set(bearer(civil))
    .send({ deliveries: [{ deliveryId: randomUUID(), grantId: randomUUID(), items: ['idNumber'], cursorFrom: null, cursorTo: 'x' }], rows: [{ idNumber: 'x' }] })
    .expect(403);
  expect(direct.body.code).toBe('ROLE_REQUIRED');
});
