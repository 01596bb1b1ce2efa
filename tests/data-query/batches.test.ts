import request from 'supertest';
import { Readable } from 'node:stream';
import { residentIdCheckChar } from '@gdx/codes';
import { personOf, rowMaker, starterResources } from '@gdx/data-query/testing';
import { startPlatform, type TestPlatform } from '../helpers/platform';
import { addUser, type TestUser } from '../helpers/gateway';
import { dataQueryUrl, enc, EventWriter, starterResource } from './support';

let platform: TestPlatform;
let events: EventWriter;
let provider: TestUser;
let operator: TestUser;
let outsider: TestUser;
const CODE = '101001/0001';
const url = `/api/v1/data/${enc(CODE)}/batches`;

beforeAll(async () => {
  platform = await startPlatform(['data-query']);
  events = new EventWriter(platform);
  provider = await addUser(platform.gateway, 'GA', ['unit_admin']);
  operator = await addUser(platform.gateway, 'GA', ['unit_operator']);
  outsider = await addUser(platform.gateway, 'LZH', ['unit_admin']);
  await events.resource(starterResource(CODE, provider.unitId));
});
afterAll(async () => {
  events?.close();
  await platform?.close();
});

const db = () => platform.services['data-query']!.db;
const people = [personOf(0), personOf(1), personOf(2), personOf(3)];
const row = (i: number, extra: Record<string, unknown> = {}) => ({
  idNumber: people[i].idNumber,
  name: `测试${i}`,
  sex: people[i].sex,
  birthDate: people[i].birthDate,
  regionCode: people[i].regionCode,
  ...extra,
});
const ndjson = (rows: object[]) => rows.map((r) => JSON.stringify(r)).join('\n');

async function stored(): Promise<Record<string, { name: string | null; deleted: boolean; seq: string }>> {
  const rows: { id_number: string; name: string | null; _deleted_at: Date | null; _change_seq: string }[] = await db().query(
    'SELECT id_number, name, _deleted_at, _change_seq FROM data_query_rows.r_101001_0001',
  );
  return Object.fromEntries(rows.map((r) => [r.id_number, { name: r.name, deleted: r._deleted_at !== null, seq: r._change_seq }]));
}

async function dataset(): Promise<{ change_seq: string; last_updated_at: Date | null }> {
  const [ds] = await db().query(`SELECT change_seq, last_updated_at FROM dataset WHERE code = $1`, [CODE]);
  return ds;
}

async function dataUpdated(changeSeq: number) {
  for (let i = 0; i < 100; i++) {
    const found = await events.eventsOf('data', (e) => e.type === 'data.updated' && e.data.changeSeq === changeSeq);
    if (found.length) return found;
    await new Promise((r) => setTimeout(r, 50));
  }
  return [];
}

test('an NDJSON batch through the gateway is stored, advances the change sequence and last update, and emits data.updated', async () => {
  const before = Date.now();
  const res = await request(platform.gatewayUrl)
    .post(url)
    .set('authorization', `Bearer ${provider.token}`)
    .set('content-type', 'application/x-ndjson')
    .send(ndjson([row(0), row(1), row(2)]))
    .expect(200);
  expect(res.body).toMatchObject({ resourceCode: CODE, changeSeq: 1, rows: 3, upserted: 3, deleted: 0, unmatchedDeletes: 0 });
  expect(Object.keys(await stored()).sort()).toEqual([people[0].idNumber, people[1].idNumber, people[2].idNumber].sort());
  const ds = await dataset();
  expect(ds.change_seq).toBe('1');
  expect(ds.last_updated_at!.getTime()).toBeGreaterThanOrEqual(before - 1000);
  const [event] = await dataUpdated(1);
  expect(event).toMatchObject({ subject: CODE, data: { resourceCode: CODE, providerUnitId: provider.unitId, upserted: 3, deleted: 0, rows: 3, changeSeq: 1, inserted: 3, revived: 0 } });
});

test('a CSV batch (an operator may submit too) updates existing rows and adds new ones', async () => {
  const csv = [
    'idNumber,name,sex,birthDate,regionCode,householdAddress',
    `${people[0].idNumber},"王,五",${people[0].sex},${people[0].birthDate},${people[0].regionCode},"安徽省""蚌埠""市"`,
    `${people[3].idNumber},赵六,${people[3].sex},${people[3].birthDate},${people[3].regionCode},`,
  ].join('\r\n');
  const res = await request(platform.gatewayUrl).post(url).set('authorization', `Bearer ${operator.token}`).set('content-type', 'text/csv; charset=utf-8').send(csv).expect(200);
  expect(res.body).toMatchObject({ changeSeq: 2, rows: 2, upserted: 2 });
  const rows = await stored();
  expect(rows[people[0].idNumber]).toEqual({ name: '王,五', deleted: false, seq: '2' });
  expect(rows[people[1].idNumber].seq).toBe('1');
  expect(Object.keys(rows)).toHaveLength(4);
  const [address] = await db().query('SELECT household_address FROM data_query_rows.r_101001_0001 WHERE id_number = $1', [people[0].idNumber]);
  expect(address.household_address).toBe('安徽省"蚌埠"市');
});

test('a JSON array batch applies upserts and deletes in order; a delete leaves a tombstone without the data', async () => {
  const body = [row(1, { name: '改名' }), { op: 'delete', idNumber: people[2].idNumber }, { op: 'delete', idNumber: personOf(99).idNumber }];
  const res = await request(platform.gatewayUrl).post(url).set('authorization', `Bearer ${provider.token}`).set('content-type', 'application/json').send(JSON.stringify(body)).expect(200);
  expect(res.body).toMatchObject({ changeSeq: 3, rows: 3, upserted: 1, deleted: 1, unmatchedDeletes: 1 });
  const rows = await stored();
  expect(rows[people[1].idNumber]).toEqual({ name: '改名', deleted: false, seq: '3' });
  expect(rows[people[2].idNumber]).toEqual({ name: null, deleted: true, seq: '3' });
  expect((await dataUpdated(3))[0].data).toMatchObject({ upserted: 1, deleted: 1, rows: 3, inserted: 0, revived: 0 });
});

test('one bad identity number refuses the whole batch with the row reported, and nothing is written', async () => {
  const good = row(0, { name: '不应写入' });
  const wrong = people[1].idNumber.slice(0, 17) + (people[1].idNumber[17] === '1' ? '2' : '1');
  const before = { rows: await stored(), ds: await dataset() };
  const res = await request(platform.gatewayUrl)
    .post(url)
    .set('authorization', `Bearer ${provider.token}`)
    .set('content-type', 'application/x-ndjson')
    .send(ndjson([good, row(1, { idNumber: wrong }), good]) + '\n')
    .expect(422);
  expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
  expect(res.body).toMatchObject({ code: 'BATCH_REJECTED', rows: 3, errorCount: 1, truncated: false, errors: [{ row: 2, item: 'idNumber', reason: expect.stringMatching(/identity number/) }] });
  expect(await stored()).toEqual(before.rows);
  expect(await dataset()).toEqual(before.ds);
});

test('every kind of problem is reported, and a long report is capped but counted', async () => {
  const first17 = `${people[0].regionCode}19900230123`;
  const rows = [
    row(0, { sex: '5' }),
    row(1, { birthDate: '1990-13-01' }),
    row(2, { regionCode: '110101' }),
    row(3, { nickname: 'x' }),
    { name: '无号码' },
    { idNumber: first17 + residentIdCheckChar(first17), name: 'a', sex: '1', birthDate: '1990-01-01' },
    'not an object',
  ];
  const res = await request(dataQueryUrl(platform)).post(url).set('authorization', `Bearer ${provider.token}`).set('content-type', 'application/json').send(JSON.stringify(rows)).expect(422);
  const byRow = Object.fromEntries(res.body.errors.map((e: { row: number; item: string }) => [`${e.row}:${e.item}`, true]));
  expect(Object.keys(byRow).sort()).toEqual(['1:sex', '2:birthDate', '3:regionCode', '4:nickname', '5:idNumber', '5:birthDate', '5:sex', '6:idNumber', '7:null'].sort());

  const many = Array.from({ length: 1500 }, (_, i) => ({ ...row(0), idNumber: `bad${i}` }));
  const capped = await request(dataQueryUrl(platform)).post(url).set('authorization', `Bearer ${provider.token}`).set('content-type', 'application/x-ndjson').send(ndjson(many)).expect(422);
  expect(capped.body).toMatchObject({ errorCount: 1500, truncated: true, rows: 1500 });
  expect(capped.body.errors).toHaveLength(1000);
});

test('only the providing unit’s admins and operators submit; unknown resources and bad bodies are refused', async () => {
  const body = ndjson([row(0)]);
  const outsiderRes = await request(platform.gatewayUrl).post(url).set('authorization', `Bearer ${outsider.token}`).set('content-type', 'application/x-ndjson').send(body).expect(403);
  expect(outsiderRes.body.code).toBe('NOT_PROVIDER');
  await request(platform.gatewayUrl).post(url).set('content-type', 'application/x-ndjson').send(body).expect(401);
  const unknown = await request(platform.gatewayUrl)
    .post(`/api/v1/data/${enc('999999/0001')}/batches`)
    .set('authorization', `Bearer ${provider.token}`)
    .set('content-type', 'application/x-ndjson')
    .send(body)
    .expect(404);
  expect(unknown.body.code).toBe('RESOURCE_NOT_FOUND');
  await request(dataQueryUrl(platform)).post(url).set('authorization', `Bearer ${provider.token}`).set('content-type', 'text/plain').send(body).expect(415);
  const malformed = await request(dataQueryUrl(platform)).post(url).set('authorization', `Bearer ${provider.token}`).set('content-type', 'application/json').send('{"not":"an array"}').expect(400);
  expect(malformed.body.code).toBe('MALFORMED_BATCH');
  const empty = await request(dataQueryUrl(platform)).post(url).set('authorization', `Bearer ${provider.token}`).set('content-type', 'application/x-ndjson').send('\n').expect(400);
  expect(empty.body.code).toBe('EMPTY_BATCH');
  expect((await dataset()).change_seq).toBe('3');
});

test('a large batch streams through in chunks, repeated keys resolved in submission order', async () => {
  const make = rowMaker(starterResources().find((r) => r.code === CODE)!);
  const total = 30_000;
  function* lines() {
    for (let i = 0; i < total; i++) yield `${JSON.stringify(make(1000 + i))}\n`;
    yield `${JSON.stringify({ ...make(1000), name: '最后一次' })}\n`; // the same key again, last
  }
  const res = await request(dataQueryUrl(platform))
    .post(url)
    .set('authorization', `Bearer ${provider.token}`)
    .set('content-type', 'application/x-ndjson')
    .send(await streamToString(Readable.from(lines())))
    .expect(200);
  expect(res.body).toMatchObject({ rows: total + 1, upserted: total + 1, changeSeq: 4 });
  const [count] = await db().query('SELECT count(*)::int AS n FROM data_query_rows.r_101001_0001 WHERE _change_seq = 4');
  expect(count.n).toBe(total);
  const [last] = await db().query('SELECT name FROM data_query_rows.r_101001_0001 WHERE id_number = $1', [make(1000).idNumber]);
  expect(last.name).toBe('最后一次');
});

test('data.updated says what a batch changed in the records held: keys new to the resource, and deleted ones brought back', async () => {
  const res = await request(platform.gatewayUrl)
    .post(url)
    .set('authorization', `Bearer ${provider.token}`)
    .set('content-type', 'application/x-ndjson')
    .send(ndjson([row(2, { name: '复活' }), { ...row(0), idNumber: personOf(98).idNumber, sex: personOf(98).sex, birthDate: personOf(98).birthDate, regionCode: personOf(98).regionCode }, row(1)]))
    .expect(200);
  expect((await dataUpdated(res.body.changeSeq as number))[0].data).toMatchObject({ upserted: 3, deleted: 0, inserted: 1, revived: 1 });
  expect((await stored())[people[2].idNumber]).toMatchObject({ name: '复活', deleted: false });
});

async function streamToString(stream: Readable): Promise<string> {
  const parts: string[] = [];
  for await (const chunk of stream) parts.push(String(chunk));
  return parts.join('');
}
