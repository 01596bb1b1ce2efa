import request from 'supertest';
import { createHash, randomUUID } from 'node:crypto';
import { get as httpGet } from 'node:http';
import { residentIdCheckChar, toHalfWidth } from '@gdx/codes';
import { personOf } from '@gdx/data-query/testing';
import { startPlatform, type TestPlatform } from '../helpers/platform';
import { addUser, type TestUser } from '../helpers/gateway';
import { eventually } from '../helpers/wait';
import { EventWriter, grantOf, starterResource, submitRows, type Grant } from '../data-query/support';

/**
 * Issue 13, customization jobs (数据定制) through the gateway: every kind on a small fixture
 * gives exactly the expected per-record verdicts and values, a compare never returns a stored
 * value, refusals carry their codes, a job is its unit's alone, and progress streams as SSE.
 */
const CODE = '101001/0001';
const LOCAL = '340302';
let platform: TestPlatform;
let events: EventWriter;
let provider: TestUser;
let consumer: TestUser;
let third: TestUser;
let interfaceOnly: TestUser;
let office: TestUser;
let busy: TestUser;
let grant: Grant;

const people = Array.from({ length: 42 }, (_, i) => personOf(i));
const nameOf = (i: number) => `张三${i}`;
const addressOf = (i: number) => `龙子湖区东风路${i}号`;
const local = people.map((p, i) => ({ ...p, i })).filter((p) => p.regionCode === LOCAL);
const elsewhere = people.map((p, i) => ({ ...p, i })).filter((p) => p.regionCode !== LOCAL);
const unknownId = (() => {
  const first17 = '34030219900101123';
  return first17 + residentIdCheckChar(first17);
})();
const badCheckId = `${unknownId.slice(0, 17)}${unknownId[17] === '0' ? '1' : '0'}`;
const fullWidth = (s: string) => s.replace(/[0-9A-Za-z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0));

beforeAll(async () => {
  // Tiny chunks: a 40-record job has ten of them, so progress shows; a small record cap to test the limit.
  platform = await startPlatform(['request-approval', 'data-query'], {
    config: { 'data-query': { jobChunkRecords: 4, jobSweepMs: 200, jobEventsPollMs: 50, jobMaxRecords: 200, jobUnitConcurrency: 2 } },
  });
  events = new EventWriter(platform);
  provider = await addUser(platform.gateway, 'GA', ['unit_admin']);
  consumer = await addUser(platform.gateway, 'LZH', ['unit_admin']);
  third = await addUser(platform.gateway, 'HY', ['unit_admin']);
  interfaceOnly = await addUser(platform.gateway, 'RS', ['unit_admin']);
  office = await addUser(platform.gateway, 'OFFICE', ['office_admin']);
  busy = await addUser(platform.gateway, 'MZ', ['unit_operator']);
  // The household address is secret here: comparable, never revealed.
  const resource = starterResource(CODE, provider.unitId);
  resource.items = resource.items.map((i) => (i.key === 'householdAddress' ? { ...i, sensitivity: 'secret' as const, mask: 'full' as const } : i));
  await events.resource(resource);
  await submitRows(
    platform,
    CODE,
    provider,
    people.map((p, i) => ({ idNumber: p.idNumber, name: nameOf(i), sex: p.sex, birthDate: p.birthDate, regionCode: p.regionCode, householdAddress: addressOf(i) })),
  ).expect(200);
  const items = ['idNumber', 'name', 'sex', 'birthDate', 'regionCode', 'householdAddress'];
  grant = grantOf({
    consumerUnitId: consumer.unitId,
    providerUnitId: provider.unitId,
    resourceCode: CODE,
    items,
    modes: ['customization'],
    rowFilter: { all: [{ key: 'regionCode', op: 'eq', value: LOCAL }] },
  });
  await events.grant(grant);
  await events.grant(grantOf({ consumerUnitId: interfaceOnly.unitId, providerUnitId: provider.unitId, resourceCode: CODE, items, modes: ['interface'] }));
  await events.grant(grantOf({ consumerUnitId: busy.unitId, providerUnitId: provider.unitId, resourceCode: CODE, items, modes: ['customization'] }));
  expect(local.length).toBeGreaterThanOrEqual(6);
});
afterAll(async () => {
  events?.close();
  await platform?.close();
});

const auth = (u: TestUser) => `Bearer ${u.token}`;
const submit = (u: TestUser, body: object) => request(platform.gatewayUrl).post('/api/v1/jobs').set('authorization', auth(u)).send(body);
const getJob = (u: TestUser, id: string) => request(platform.gatewayUrl).get(`/api/v1/jobs/${id}`).set('authorization', auth(u));
const upload = (u: TestUser, id: string, type: string, body: string) => request(platform.gatewayUrl).put(`/api/v1/jobs/${id}/input`).set('authorization', auth(u)).set('content-type', type).send(body);
const result = (u: TestUser, id: string, format?: string) =>
  request(platform.gatewayUrl)
    .get(`/api/v1/jobs/${id}/result`)
    .query(format ? { format } : {})
    .set('authorization', auth(u));

async function finished(id: string, u: TestUser = consumer): Promise<Record<string, unknown>> {
  return eventually(
    async () => {
      const r = await getJob(u, id).expect(200);
      return ['succeeded', 'failed', 'cancelled'].includes(r.body.status as string) ? (r.body as Record<string, unknown>) : undefined;
    },
    20_000,
    `job ${id} to end`,
  );
}

const lines = (text: string) =>
  text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);

const compareRecords = () => {
  const [a, b, c, d] = local;
  return [
    { idNumber: a.idNumber, name: nameOf(a.i), householdAddress: addressOf(a.i) },
    { idNumber: b.idNumber, name: '李四', householdAddress: addressOf(b.i) },
    { idNumber: unknownId, name: '王五', householdAddress: '某地' },
    { idNumber: badCheckId, name: '王五', householdAddress: '某地' },
    { idNumber: c.idNumber, name: ` ${nameOf(c.i)}\u3000`, householdAddress: fullWidth(addressOf(c.i)) },
    { idNumber: elsewhere[0].idNumber, name: nameOf(elsewhere[0].i), householdAddress: addressOf(elsewhere[0].i) },
    { idNumber: d.idNumber, householdAddress: addressOf(d.i) },
  ];
};

describe('compare (比对)', () => {
  test('per record and item: match, mismatch, not_found (also outside the row filter), invalid with a reason; normalisation stated; never a stored value', async () => {
    const records = compareRecords();
    const created = await submit(consumer, { kind: 'compare', resourceCode: CODE, parameters: { items: ['name', 'householdAddress'], normalize: ['trim', 'half-width'] }, records }).expect(202);
    expect(created.headers.location).toBe(`/api/v1/jobs/${created.body.id}`);
    expect(created.body).toMatchObject({ status: 'queued', kind: 'compare', grantId: grant.id, progress: { done: 0, total: 7 }, parameters: { normalize: ['trim', 'half-width'] } });
    const job = await finished(created.body.id as string);
    expect(job).toMatchObject({ status: 'succeeded', progress: { done: 7, total: 7 }, counts: { match: 2, mismatch: 1, not_found: 2, invalid: 2 }, resultRecords: 7 });
    const res = await result(consumer, created.body.id as string).expect(200);
    expect(res.headers['content-type']).toMatch(/application\/x-ndjson/);
    expect(res.headers['gdx-compare-normalization']).toBe('trim,half-width');
    const [a, b, , , c, , d] = records;
    expect(lines(res.text)).toEqual([
      { _record: 1, _key: a.idNumber, _result: 'match', name: 'match', householdAddress: 'match', _reason: null },
      { _record: 2, _key: b.idNumber, _result: 'mismatch', name: 'mismatch', householdAddress: 'match', _reason: null },
      { _record: 3, _key: unknownId, _result: 'not_found', name: 'not_found', householdAddress: 'not_found', _reason: null },
      { _record: 4, _key: badCheckId, _result: 'invalid', name: 'invalid', householdAddress: 'invalid', _reason: expect.stringMatching(/^idNumber is not a valid resident identity number/) },
      { _record: 5, _key: c.idNumber, _result: 'match', name: 'match', householdAddress: 'match', _reason: null },
      { _record: 6, _key: elsewhere[0].idNumber, _result: 'not_found', name: 'not_found', householdAddress: 'not_found', _reason: null },
      { _record: 7, _key: d.idNumber, _result: 'invalid', name: 'invalid', householdAddress: 'match', _reason: 'name is missing' },
    ]);
    // Nothing stored leaves: no stored name or address appears anywhere in the answer.
    expect(res.text).not.toMatch(/张三|东风路/);
    // The result's hash is the job's and on the record of both parties' events.
    const sha = createHash('sha256').update(res.text).digest('hex');
    expect(res.headers['gdx-result-sha256']).toBe(sha);
    expect(job.resultSha256).toBe(sha);
    const jobEvents = await eventually(async () => {
      const es = await events.eventsOf('job', (e) => e.data.jobId === created.body.id);
      return es.length === 3 ? es : undefined;
    });
    expect(jobEvents.map((e) => e.type)).toEqual(['job.submitted', 'job.started', 'job.finished']);
    expect(jobEvents.every((e) => e.data.providerUnitId === provider.unitId && e.data.unitId === consumer.unitId && e.data.mode === 'customization')).toBe(true);
    expect(jobEvents[2].data).toMatchObject({ status: 'succeeded', rowCount: 7, resultSha256: sha, counts: { match: 2, mismatch: 1, not_found: 2, invalid: 2 } });
    // The record never holds the records themselves.
    expect(JSON.stringify(jobEvents)).not.toMatch(/张三|李四|东风路/);
  });

  test('without normalisation, padded and full-width text does not match', async () => {
    const [, , , , c] = compareRecords();
    const created = await submit(consumer, { kind: 'compare', resourceCode: CODE, parameters: { items: ['name', 'householdAddress'] }, records: [c] }).expect(202);
    await finished(created.body.id as string);
    const res = await result(consumer, created.body.id as string).expect(200);
    expect(lines(res.text)).toEqual([{ _record: 1, _key: c.idNumber, _result: 'mismatch', name: 'mismatch', householdAddress: 'mismatch', _reason: null }]);
    expect(res.headers['gdx-compare-normalization']).toBe('none');
    // The premise: the submitted address differs from the stored one by its characters' width only.
    expect(toHalfWidth(c.householdAddress)).toBe(addressOf(local[2].i));
  });

  test('input uploaded afterwards as NDJSON (a broken line reported, not dropped) and as CSV', async () => {
    const created = await submit(consumer, { kind: 'compare', resourceCode: CODE, parameters: { items: ['name'] } }).expect(202);
    expect(created.body).toMatchObject({ status: 'awaiting-input', progress: { done: 0, total: null } });
    const id = created.body.id as string;
    const [a, b] = local;
    const body = [JSON.stringify({ idNumber: a.idNumber, name: nameOf(a.i) }), '{"idNumber": "34030', '[1, 2]', JSON.stringify({ idNumber: b.idNumber, name: nameOf(b.i) })].join('\n');
    const up = await upload(consumer, id, 'application/x-ndjson', body).expect(202);
    expect(up.body).toMatchObject({ status: 'queued', progress: { total: 4 } });
    await finished(id);
    expect(lines((await result(consumer, id).expect(200)).text)).toEqual([
      { _record: 1, _key: a.idNumber, _result: 'match', name: 'match', _reason: null },
      { _record: 2, _key: null, _result: 'invalid', name: 'invalid', _reason: 'The record is not valid JSON.' },
      { _record: 3, _key: null, _result: 'invalid', name: 'invalid', _reason: 'The record is not an object of item values.' },
      { _record: 4, _key: b.idNumber, _result: 'match', name: 'match', _reason: null },
    ]);
    // A second upload is refused; the job keeps its input.
    await upload(consumer, id, 'application/x-ndjson', body).expect(409, /INPUT_ALREADY_GIVEN/);

    const csvJob = await submit(consumer, { kind: 'compare', resourceCode: CODE, parameters: { items: ['name', 'sex'] } }).expect(202);
    await upload(consumer, csvJob.body.id as string, 'text/csv', `idNumber,name,sex\r\n${a.idNumber},${nameOf(a.i)},${a.sex === '1' ? '2' : '1'}\r\n`).expect(202);
    await finished(csvJob.body.id as string);
    const csv = await result(consumer, csvJob.body.id as string, 'csv').expect(200);
    expect(csv.headers['content-type']).toMatch(/text\/csv/);
    expect(csv.text).toBe(`_record,_key,_result,name,sex,_reason\r\n1,${a.idNumber},mismatch,match,mismatch,\r\n`);
  });

  test('refused: no grant, another mode, an item outside the grant, the row key compared, an unknown item', async () => {
    const body = { kind: 'compare', resourceCode: CODE, parameters: { items: ['name'] }, records: [{ idNumber: unknownId, name: 'x' }] };
    expect((await submit(third, body).expect(403)).body.code).toBe('NO_GRANT');
    expect((await submit(interfaceOnly, body).expect(403)).body.code).toBe('MODE_NOT_GRANTED');
    expect((await submit(consumer, { ...body, parameters: { items: ['ethnicity'] } }).expect(403)).body).toMatchObject({ code: 'ITEM_NOT_GRANTED', item: 'ethnicity' });
    expect((await submit(consumer, { ...body, parameters: { items: ['idNumber'] } }).expect(400)).body.code).toBe('KEY_NOT_COMPARED');
    expect((await submit(consumer, { ...body, parameters: { items: ['shoeSize'] } }).expect(400)).body.code).toBe('UNKNOWN_ITEM');
    expect((await submit(consumer, { ...body, kind: 'guess' }).expect(400)).body.code).toBe('VALIDATION_FAILED');
    expect((await submit(consumer, { ...body, resourceCode: '999999/0001' }).expect(404)).body.code).toBe('RESOURCE_NOT_FOUND');
  });
});

describe('filter, clean, normalize, convert', () => {
  test('filter (筛选): conditions on items that are not query keys, the row filter applied, masked as in a data call', async () => {
    const created = await submit(consumer, {
      kind: 'filter',
      resourceCode: CODE,
      parameters: {
        conditions: [
          { item: 'sex', op: 'eq', value: '2' },
          { item: 'birthDate', op: 'gte', value: '1970-01-01' },
        ],
        items: ['idNumber', 'name', 'birthDate', 'householdAddress'],
      },
    }).expect(202);
    const job = await finished(created.body.id as string);
    const expected = local
      .filter((p) => p.sex === '2' && p.birthDate >= '1970-01-01')
      .sort((x, y) => (x.idNumber < y.idNumber ? -1 : 1))
      .map((p) => ({ idNumber: `${p.idNumber.slice(0, 6)}********${p.idNumber.slice(-4)}`, name: `张${'*'.repeat([...nameOf(p.i)].length - 1)}`, birthDate: p.birthDate, householdAddress: '***' }));
    expect(expected.length).toBeGreaterThan(0);
    expect(job).toMatchObject({ status: 'succeeded', progress: { done: expected.length, total: expected.length }, counts: { records: expected.length } });
    expect(lines((await result(consumer, created.body.id as string).expect(200)).text)).toEqual(expected);
    // Filtering on an item the grant does not cover is refused like reading it.
    const refused = await submit(consumer, { kind: 'filter', resourceCode: CODE, parameters: { conditions: [{ item: 'ethnicity', op: 'eq', value: '01' }] } }).expect(403);
    expect(refused.body.code).toBe('ITEM_NOT_GRANTED');
    const badValue = await submit(consumer, { kind: 'filter', resourceCode: CODE, parameters: { conditions: [{ item: 'birthDate', op: 'gte', value: 'yesterday' }] } }).expect(400);
    expect(badValue.body.code).toBe('INVALID_CONDITION');
    const badOp = await submit(consumer, { kind: 'filter', resourceCode: CODE, parameters: { conditions: [{ item: 'name', op: 'gt', value: 'a' }] } }).expect(400);
    expect(badOp.body.code).toBe('RANGE_NOT_ALLOWED');
  });

  test('clean (清洗): trimmed, half-width, dates to ISO 8601, check characters, region codes; every change and rejection per record', async () => {
    const created = await submit(consumer, {
      kind: 'clean',
      resourceCode: CODE,
      parameters: { rules: { uscc: 'credit-code' } },
      records: [
        { idNumber: ' 11010519491231002x', birthDate: '1949年12月31日', name: 'ＡＢＣ ', regionCode: '340302' },
        { birthDate: '2023-02-30', regionCode: '龙子湖区' },
        { uscc: '91350100m000100y43', note: 'ok', age: 7 },
        { name: '张三' },
      ],
    }).expect(202);
    const job = await finished(created.body.id as string);
    expect(job).toMatchObject({
      counts: { changed: 2, rejected: 1, unchanged: 1 },
      columns: ['_record', '_status', 'idNumber', 'birthDate', 'name', 'regionCode', 'uscc', 'note', 'age', '_changes', '_rejections'],
    });
    expect(lines((await result(consumer, created.body.id as string).expect(200)).text)).toEqual([
      {
        _record: 1,
        _status: 'changed',
        idNumber: '11010519491231002X',
        birthDate: '1949-12-31',
        name: 'ABC',
        regionCode: '340302',
        _changes: { idNumber: ['trimmed', 'upper-case'], birthDate: ['date-format'], name: ['half-width', 'trimmed'] },
      },
      {
        _record: 2,
        _status: 'rejected',
        birthDate: '2023-02-30',
        regionCode: '龙子湖区',
        _rejections: { birthDate: { reason: 'INVALID_DATE', detail: expect.any(String) }, regionCode: { reason: 'UNKNOWN_REGION', detail: expect.stringMatching(/normalize/) } },
      },
      { _record: 3, _status: 'changed', uscc: '91350100M000100Y43', note: 'ok', age: 7, _changes: { uscc: ['upper-case'] } },
      { _record: 4, _status: 'unchanged', name: '张三' },
    ]);
  });

  test('normalize (规范化): region names (with parents, former names) and sex words to GB/T codes; unmapped values reported', async () => {
    const created = await submit(consumer, {
      kind: 'normalize',
      resourceCode: CODE,
      records: [{ regionCode: '蚌埠市龙子湖区', sex: '女' }, { regionCode: '东市区', sex: 'M' }, { regionCode: '341400' }, { regionCode: '340302', sex: '1' }, { regionCode: '火星', sex: '?' }],
    }).expect(202);
    const job = await finished(created.body.id as string);
    expect(job).toMatchObject({ counts: { mapped: 2, unmapped: 2, unchanged: 1 }, parameters: { fields: { sex: 'GB/T 2261.1', regionCode: 'GB/T 2260' } } });
    expect(lines((await result(consumer, created.body.id as string).expect(200)).text)).toEqual([
      { _record: 1, _status: 'mapped', regionCode: '340302', sex: '2', _mapped: { regionCode: { from: '蚌埠市龙子湖区', to: '340302' }, sex: { from: '女', to: '2' } } },
      { _record: 2, _status: 'mapped', regionCode: '340302', sex: '1', _mapped: { regionCode: { from: '东市区', to: '340302' }, sex: { from: 'M', to: '1' } } },
      { _record: 3, _status: 'unmapped', regionCode: '341400', _unmapped: { regionCode: { reason: 'RETIRED_REGION', detail: expect.any(String) } } },
      { _record: 4, _status: 'unchanged', regionCode: '340302', sex: '1' },
      {
        _record: 5,
        _status: 'unmapped',
        regionCode: '火星',
        sex: '?',
        _unmapped: { regionCode: { reason: 'UNKNOWN_REGION', detail: expect.any(String) }, sex: { reason: 'UNKNOWN_SEX', detail: expect.any(String) } },
      },
    ]);
  });

  test('convert: a result or the slice as CSV, NDJSON, JSON or XML', async () => {
    const [a] = local;
    const source = await submit(consumer, { kind: 'compare', resourceCode: CODE, parameters: { items: ['name'] }, records: [{ idNumber: a.idNumber, name: 'x,"y"' }] }).expect(202);
    await finished(source.body.id as string);
    const converted = await submit(consumer, { kind: 'convert', resourceCode: CODE, parameters: { format: 'csv', fromJob: source.body.id } }).expect(202);
    const job = await finished(converted.body.id as string);
    expect(job).toMatchObject({ status: 'succeeded', resultFormat: 'csv', resultRecords: 1 });
    const csv = await result(consumer, converted.body.id as string).expect(200);
    expect(csv.headers['content-type']).toMatch(/text\/csv/);
    expect(csv.text).toBe(`_record,_key,_result,name,_reason\r\n1,${a.idNumber},mismatch,mismatch,\r\n`);
    const xml = await result(consumer, converted.body.id as string, 'xml').expect(200);
    expect(xml.headers['content-type']).toMatch(/application\/xml/);
    expect(xml.text).toBe(
      `<?xml version="1.0" encoding="UTF-8"?>\n<records>\n<record><field name="_record">1</field><field name="_key">${a.idNumber}</field><field name="_result">mismatch</field><field name="name">mismatch</field></record>\n</records>\n`,
    );
    const json = await result(consumer, converted.body.id as string, 'json').expect(200);
    expect(JSON.parse(json.text)).toEqual([{ _record: 1, _key: a.idNumber, _result: 'mismatch', name: 'mismatch', _reason: null }]);

    const slice = await submit(consumer, { kind: 'convert', resourceCode: CODE, parameters: { format: 'json', items: ['idNumber', 'regionCode'] } }).expect(202);
    await finished(slice.body.id as string);
    const rows = JSON.parse((await result(consumer, slice.body.id as string).expect(200)).text) as { regionCode: string }[];
    expect(rows).toHaveLength(local.length);
    expect(rows.every((r) => r.regionCode === LOCAL)).toBe(true);
    // Another unit's job cannot be converted (it is not there for this unit).
    expect((await submit(busy, { kind: 'convert', resourceCode: CODE, parameters: { format: 'csv', fromJob: source.body.id } }).expect(404)).body.code).toBe('JOB_NOT_FOUND');
  });
});

describe('whose job it is', () => {
  let id: string;
  beforeAll(async () => {
    const created = await submit(consumer, { kind: 'compare', resourceCode: CODE, parameters: { items: ['name'] }, records: [{ idNumber: local[0].idNumber, name: nameOf(local[0].i) }] }).expect(202);
    id = created.body.id as string;
    await finished(id);
  });

  test('another unit is told there is no such job, on every route', async () => {
    for (const r of [
      getJob(third, id),
      result(third, id),
      request(platform.gatewayUrl).post(`/api/v1/jobs/${id}/cancel`).set('authorization', auth(third)),
      request(platform.gatewayUrl).get(`/api/v1/jobs/${id}/events`).set('authorization', auth(third)),
      upload(third, id, 'application/x-ndjson', '{}'),
    ]) {
      const res = await r.expect(404);
      expect(res.body.code).toBe('JOB_NOT_FOUND');
    }
    const list = await request(platform.gatewayUrl).get('/api/v1/jobs').set('authorization', auth(third)).expect(200);
    expect(list.body.items).toEqual([]);
  });

  test('the office sees its terms and progress, not its result', async () => {
    const seen = await getJob(office, id).expect(200);
    expect(seen.body).toMatchObject({ id, unitId: consumer.unitId, status: 'succeeded' });
    expect((await result(office, id).expect(403)).body.code).toBe('NOT_JOB_OWNER');
    const list = await request(platform.gatewayUrl).get('/api/v1/jobs').query({ kind: 'compare' }).set('authorization', auth(office)).expect(200);
    expect(list.body.items.map((j: { id: string }) => j.id)).toContain(id);
    const own = await request(platform.gatewayUrl).get('/api/v1/jobs').query({ limit: 1 }).set('authorization', auth(consumer)).expect(200);
    expect(own.body.items).toHaveLength(1);
    expect(own.body.nextCursor).toEqual(expect.any(String));
  });

  test('a job that does not exist, and an id that is not one', async () => {
    expect((await getJob(consumer, randomUUID()).expect(404)).body.code).toBe('JOB_NOT_FOUND');
    expect((await getJob(consumer, 'not-a-uuid').expect(400)).body.code).toBe('VALIDATION_FAILED');
  });
});

describe('limits, cancel, progress', () => {
  test('a unit’s jobs at once are limited (429), an input over the record cap is refused whole (413), cancel ends a job (409 after)', async () => {
    const spec = { kind: 'compare', resourceCode: CODE, parameters: { items: ['name'] } };
    const first = await submit(busy, spec).expect(202);
    const second = await submit(busy, spec).expect(202);
    const third_ = await submit(busy, spec).expect(429);
    expect(third_.body.code).toBe('TOO_MANY_JOBS');
    expect(third_.headers['retry-after']).toBe('30');
    const big = Array.from({ length: 201 }, (_, i) => JSON.stringify({ idNumber: people[i % people.length].idNumber, name: 'x' })).join('\n');
    expect((await upload(busy, first.body.id as string, 'application/x-ndjson', big).expect(413)).body.code).toBe('TOO_MANY_RECORDS');
    expect((await getJob(busy, first.body.id as string).expect(200)).body).toMatchObject({ status: 'awaiting-input', progress: { total: null } });
    expect((await upload(busy, first.body.id as string, 'text/plain', 'x').expect(415)).body.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    expect((await upload(busy, first.body.id as string, 'application/x-ndjson', '\n\n').expect(400)).body.code).toBe('EMPTY_INPUT');

    const cancelled = await request(platform.gatewayUrl).post(`/api/v1/jobs/${first.body.id}/cancel`).set('authorization', auth(busy)).expect(200);
    expect(cancelled.body).toMatchObject({ status: 'cancelled', finishedAt: expect.any(String) });
    expect((await request(platform.gatewayUrl).post(`/api/v1/jobs/${first.body.id}/cancel`).set('authorization', auth(busy)).expect(409)).body.code).toBe('JOB_ENDED');
    expect((await result(busy, first.body.id as string).expect(409)).body.code).toBe('RESULT_NOT_READY');
    expect((await upload(busy, first.body.id as string, 'application/x-ndjson', '{}').expect(409)).body.code).toBe('INPUT_ALREADY_GIVEN');
    // Room again for one more.
    await submit(busy, spec).expect(202);
    await request(platform.gatewayUrl).post(`/api/v1/jobs/${second.body.id}/cancel`).set('authorization', auth(busy)).expect(200);
  });

  test('NUL characters in uploaded records are reported in their result lines, never a 500 nor a failed job', async () => {
    const [a] = local;
    const compare = await submit(consumer, { kind: 'compare', resourceCode: CODE, parameters: { items: ['name'] } }).expect(202);
    const nulKey = `${a.idNumber.slice(0, 5)}\u0000x`;
    await upload(
      consumer,
      compare.body.id as string,
      'application/x-ndjson',
      [JSON.stringify({ idNumber: nulKey, name: 'x' }), JSON.stringify({ idNumber: a.idNumber, name: 'a\u0000b' })].join('\n'),
    ).expect(202);
    await finished(compare.body.id as string);
    expect(lines((await result(consumer, compare.body.id as string).expect(200)).text)).toEqual([
      { _record: 1, _key: `${a.idNumber.slice(0, 5)}\ufffdx`, _result: 'invalid', name: 'invalid', _reason: 'idNumber contains a NUL character' },
      { _record: 2, _key: a.idNumber, _result: 'invalid', name: 'invalid', _reason: 'name contains a NUL character' },
    ]);
    const clean = await submit(consumer, { kind: 'clean', resourceCode: CODE }).expect(202);
    await upload(
      consumer,
      clean.body.id as string,
      'application/x-ndjson',
      [JSON.stringify({ name: 'a\u0000b' }), JSON.stringify({ 'x\u0000': 'y' }), JSON.stringify({ name: ' ok ' })].join('\n'),
    ).expect(202);
    expect(await finished(clean.body.id as string)).toMatchObject({ status: 'succeeded', counts: { rejected: 2, changed: 1 } });
    const cleaned = lines((await result(consumer, clean.body.id as string).expect(200)).text);
    expect(cleaned.map((l) => l._status)).toEqual(['rejected', 'rejected', 'changed']);
    expect(cleaned[0]._rejections).toEqual({ _record: { reason: 'MALFORMED_RECORD', detail: 'The record contains a NUL character (U+0000), which is not text.' } });
  });

  test('SSE: progress events as the job moves, then one end event with the whole job', async () => {
    const created = await submit(consumer, { kind: 'compare', resourceCode: CODE, parameters: { items: ['name', 'sex'] } }).expect(202);
    const id = created.body.id as string;
    const received: { event: string; data: Record<string, unknown> }[] = [];
    const done = new Promise<void>((resolve, reject) => {
      const url = new URL(`${platform.gatewayUrl}/api/v1/jobs/${id}/events`);
      httpGet(url, { headers: { authorization: auth(consumer), accept: 'text/event-stream' } }, (res) => {
        expect(res.statusCode).toBe(200);
        expect(res.headers['content-type']).toMatch(/text\/event-stream/);
        let buffer = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buffer += chunk;
          for (let cut = buffer.indexOf('\n\n'); cut >= 0; cut = buffer.indexOf('\n\n')) {
            const block = buffer.slice(0, cut);
            buffer = buffer.slice(cut + 2);
            const event = /^event: (.*)$/m.exec(block)?.[1];
            const data = /^data: (.*)$/m.exec(block)?.[1];
            if (event && data) received.push({ event, data: JSON.parse(data) as Record<string, unknown> });
          }
        });
        res.on('end', resolve);
        res.on('error', reject);
      }).on('error', reject);
    });
    // The stream is open (the first event is the job waiting for its input) before the input goes up.
    await eventually(async () => received.length > 0);
    await upload(consumer, id, 'application/x-ndjson', local.map((p) => JSON.stringify({ idNumber: p.idNumber, name: nameOf(p.i), sex: p.sex })).join('\n')).expect(202);
    await done;
    expect(received[0]).toMatchObject({ event: 'progress', data: { status: 'awaiting-input' } });
    const last = received[received.length - 1];
    expect(last).toMatchObject({ event: 'end', data: { id, status: 'succeeded', progress: { done: local.length, total: local.length }, counts: { match: local.length } } });
    const dones = received.map((e) => (e.data.progress as { done: number }).done);
    expect(dones).toEqual([...dones].sort((x, y) => x - y));
    expect(received.filter((e) => e.event === 'end')).toHaveLength(1);
  });
});
