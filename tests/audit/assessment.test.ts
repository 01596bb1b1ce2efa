import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import request from 'supertest';
import { Redis } from 'ioredis';
import ExcelJS from 'exceljs';
import { parse } from 'csv-parse/sync';
import { XMLParser } from 'fast-xml-parser';
import { streamKey } from '@gdx/events';
import { untypedEvent } from '@gdx/contracts';
import { startPlatform, type TestPlatform } from '../helpers/platform';
import { addUser, type TestUser } from '../helpers/gateway';
import { REDIS_URL } from '../helpers/redis';
import { eventually } from '../helpers/wait';

/**
 * Issue 15, assessment (考核): a fixture year of events put on the streams as the services'
 * relays would, read back as hand-computed figures and score; the same after a rebuild from
 * the trail; a unit sees only its own; the exports open.
 */
let p: TestPlatform;
let redis: Redis;
let office: TestUser;
let auditor: TestUser;
let ga: TestUser;
let rs: TestUser;
let mz: TestUser;
let sent = 0;
const ids: string[] = [];
const bearer = (u: TestUser) => ({ authorization: `Bearer ${u.token}` });
const api = () => request(p.gatewayUrl);
/** Beijing time: 2025-03-01 10:00 local is 02:00 UTC. */
const at = (localDay: string, hour = 10) => new Date(Date.parse(`${localDay}T${String(hour).padStart(2, '0')}:00:00+08:00`));

async function put(type: string, occurredAt: Date, data: Record<string, unknown>, unitId?: string): Promise<void> {
  const e = untypedEvent(type, {
    actor: unitId ? { kind: 'account', unitId, accountId: randomUUID() } : { kind: 'system' },
    subject: [data.code, data.requestId, data.caseId, data.resourceCode].find((v): v is string => typeof v === 'string') ?? 'x',
    occurredAt,
    data,
  });
  await redis.xadd(streamKey(p.prefix, type.split('.')[0]), '*', 'event', JSON.stringify(e));
  ids.push(e.id);
  sent++;
}

async function trailHolds(n: number): Promise<void> {
  const db = p.services.audit!.db;
  await eventually(async () => Number((await db.query('SELECT count(*)::int AS n FROM audit_record WHERE event_id = ANY($1::uuid[])', [ids]))[0].n) >= n, 20_000, `${n} records on the trail`);
}

const resource = (code: string, format: string, cls: string, updateCycle: string) => ({ code, providerUnitId: ga.unitId, format, classification: [cls, '01', '001'], updateCycle, name: code });
const query = (consumer: TestUser, rows: number) => ({
  unitId: consumer.unitId,
  clientId: 'c-1',
  grantId: randomUUID(),
  resourceCode: 'GA/0001',
  providerUnitId: ga.unitId,
  mode: 'interface',
  items: ['name'],
  rowCount: rows,
  result: 'allowed',
  latencyMs: 1,
  requestId: randomUUID(),
  sourceAddress: '10.0.0.1',
  via: 'data-query',
});
const served = (mode: 'data-call' | 'customization', rowCount: number, extra: Record<string, unknown>) => ({
  unitId: rs.unitId,
  providerUnitId: ga.unitId,
  grantId: randomUUID(),
  resourceCode: 'GA/0001',
  mode,
  rowCount,
  ...extra,
});
const kase = (caseType: string, action: string, extra: Record<string, unknown> = {}) => ({
  caseId: randomUUID(),
  number: 'X-2025-0001',
  caseType,
  status: 'x',
  fromStatus: null,
  action,
  openedByUnitId: rs.unitId,
  againstUnitId: ga.unitId,
  ownerUnitId: ga.unitId,
  resourceCode: null,
  deadline: null,
  overdue: false,
  ...extra,
});
const req = (extra: Record<string, unknown>) => ({ requestId: randomUUID(), applicantUnitId: rs.unitId, providerUnitId: ga.unitId, resourceCode: 'GA/0001', ...extra });

beforeAll(async () => {
  p = await startPlatform(['audit']);
  redis = new Redis(REDIS_URL);
  office = await addUser(p.gateway, 'OFFICE', ['office_admin']);
  auditor = await addUser(p.gateway, 'OFFICE', ['office_auditor']);
  ga = await addUser(p.gateway, 'GA', ['unit_admin']);
  rs = await addUser(p.gateway, 'RS', ['unit_admin']);
  mz = await addUser(p.gateway, 'MZ', ['unit_operator']);

  // Catalogue: R1 monthly, published in January; R2 yearly, published in February, deprecated in December; R3 a draft.
  await put('resource.created', at('2024-12-20'), resource('GA/0001', '数据库', '1', 'monthly'), ga.unitId);
  await put('resource.published', at('2025-01-06'), resource('GA/0001', '数据库', '1', 'monthly'), ga.unitId);
  await put('resource.created', at('2025-02-01'), resource('GA/0002', '电子表格', '3', 'yearly'), ga.unitId);
  await put('resource.published', at('2025-02-03'), resource('GA/0002', '电子表格', '3', 'yearly'), ga.unitId);
  await put('resource.deprecated', at('2025-12-01'), resource('GA/0002', '电子表格', '3', 'yearly'), ga.unitId);
  await put('resource.created', at('2025-03-01'), resource('GA/0003', '自描述格式', '3', 'daily'), ga.unitId);
  // Batches: R1 on 10 Jan, 1 Mar, 20 Dec; R2 on 5 Feb.
  const batch = (code: string, inserted: number, revived: number, deleted: number) => ({
    resourceCode: code,
    providerUnitId: ga.unitId,
    changeSeq: 1,
    rows: inserted,
    upserted: inserted,
    deleted,
    unmatchedDeletes: 0,
    inserted,
    revived,
  });
  await put('data.updated', at('2025-01-10'), batch('GA/0001', 100, 0, 0), ga.unitId);
  await put('data.updated', at('2025-03-01'), batch('GA/0001', 10, 2, 5), ga.unitId);
  await put('data.updated', at('2025-12-20'), batch('GA/0001', 0, 0, 0), ga.unitId);
  await put('data.updated', at('2025-02-05'), batch('GA/0002', 50, 0, 0), ga.unitId);
  // Requests to GA: four submitted to it (one more to the office), three answered in 2, 5 and 12 working days, one delayed.
  for (const d of ['2025-04-01', '2025-04-02', '2025-05-06', '2025-06-09']) await put('request.submitted', at(d), req({ to: 'provider' }), rs.unitId);
  await put('request.submitted', at('2025-04-03'), req({ to: 'office' }), rs.unitId);
  await put('request.reviewed', at('2025-04-03'), req({ decision: 'approve', legalBasis: null, workingDays: 2 }), ga.unitId);
  await put('request.reviewed', at('2025-04-09'), req({ decision: 'refuse', legalBasis: '《条例》第十二条', workingDays: 5 }), ga.unitId);
  await put('request.reviewed', at('2025-05-22'), req({ decision: 'refuse', legalBasis: null, workingDays: 12 }), ga.unitId);
  await put('request.delayed', at('2025-06-24'), req({ deadline: '2025-06-23T16:00:00.000Z', workingDays: 10 }));
  // Usage: RS asks GA 5 times in May (a row each) and once a minute after midnight on New Year's Day; MZ 3 times, nothing found.
  for (let i = 0; i < 5; i++) await put('query.executed', at('2025-05-10'), query(rs, 1), rs.unitId);
  await put('query.executed', new Date('2024-12-31T15:59:00Z'), query(rs, 1), rs.unitId);
  await put('query.executed', new Date('2024-12-31T16:01:00Z'), query(rs, 1), rs.unitId);
  for (let i = 0; i < 3; i++) await put('query.executed', at('2025-07-01'), query(mz, 0), mz.unitId);
  await put('query.denied', at('2025-07-01'), { ...query(mz, 0), result: 'denied', reason: 'NO_GRANT' }, mz.unitId);
  await put('data.delivered', at('2025-08-01'), served('data-call', 1000, { result: 'allowed', kind: 'pull' }), rs.unitId);
  await put('data.delivered', at('2025-08-02'), served('data-call', 1000, { result: 'allowed', kind: 'pull' }), rs.unitId);
  await put('data.delivered', at('2025-08-03'), served('data-call', 0, { result: 'denied', kind: 'pull' }), rs.unitId);
  await put('job.finished', at('2025-09-01'), served('customization', 200, { status: 'succeeded' }), rs.unitId);
  await put('job.finished', at('2025-09-02'), served('customization', 0, { status: 'failed' }), rs.unitId);
  // Cases against GA.
  await put('case.opened', at('2025-10-01'), kase('objection', 'open'), rs.unitId);
  await put('case.opened', at('2025-10-02'), kase('objection', 'open'), rs.unitId);
  await put('case.changed', at('2025-10-03'), kase('objection', 'answer', { overdue: false }), ga.unitId);
  await put('case.overdue', at('2025-10-20'), kase('objection', 'overdue', { overdue: true }));
  await put('case.opened', at('2025-10-05'), kase('complaint', 'open'), rs.unitId);
  await put('case.opened', at('2025-11-01'), kase('rectification', 'open', { openedByUnitId: office.unitId }), office.unitId);
  await put('case.circulated', at('2025-11-20'), kase('rectification', 'circulate', { openedByUnitId: office.unitId, circularId: randomUUID(), circularNumber: 'TB-2025-0001' }));
  await trailHolds(sent);
});
afterAll(async () => {
  redis?.disconnect();
  await p?.close();
});

const year = async (who: TestUser) => (await api().get('/api/v1/assessments/2025').set(bearer(who)).expect(200)).body;

test('a fixture year gives the hand-computed figures and score for every section', async () => {
  const body = await year(auditor);
  expect(body.period).toEqual({ id: '2025', kind: 'year', first: '2025-01-01', last: '2025-12-31' });
  expect(body.units.map((u: { unitId: string }) => u.unitId).sort()).toEqual([ga.unitId, mz.unitId, rs.unitId].sort());
  const g = body.units.find((u: { unitId: string }) => u.unitId === ga.unitId);
  expect(g.catalogue).toEqual({ resourcesCatalogued: 2, resourcesPublished: 1, publishedShare: 0.5, byFormat: { 数据库: 1, 自描述格式: 1 }, byClass: { '1': 1, '3': 1 }, recordsHeld: 157 });
  // R1 (monthly, 31 days): 6 Jan → 10 Jan → 1 Mar (50 days: 19 late) → 20 Dec (294 days: 263 late) → 31 Dec. R2 (yearly) on time until deprecated.
  expect(g.timeliness).toEqual({ resourcesAssessed: 2, resourcesTimely: 1, timelyShare: 0.5, daysOverdue: 282 });
  expect(g.requests).toEqual({ received: 4, answered: 3, answerDaysMedian: 5, answerDaysP90: 12, delayed: 1, refusedWithBasis: 1, refusedWithoutBasis: 1 });
  expect(g.usage.given).toEqual({ interface: { calls: 9, rows: 6 }, 'data-call': { calls: 2, rows: 2000 }, customization: { calls: 1, rows: 200 } });
  expect(g.usage.givenCalls).toBe(12);
  expect(g.cases).toEqual({ objectionsReceived: 2, objectionsAnsweredInTime: 1, objectionsOverdue: 1, complaintsReceived: 1, rectificationOrders: 1, circulars: 1 });
  expect(g.components).toEqual({ publication: 0.5, timeliness: 0.5, responsiveness: 0.75, legality: 0.5, usage: 1, objections: 0.5 });
  // 100 × (20×0.5 + 25×0.5 + 20×0.75 + 10×0.5 + 15×1 + 10×0.5) / 100 = 62.5, less 2 (an order) and 5 (a circular).
  expect(g).toMatchObject({ penalties: 7, score: 55.5, rank: 1 });
  const r = body.units.find((u: { unitId: string }) => u.unitId === rs.unitId);
  expect(r.usage.received).toEqual({ interface: { calls: 6, rows: 6 }, 'data-call': { calls: 2, rows: 2000 }, customization: { calls: 1, rows: 200 } });
  expect(r.requests).toMatchObject({ received: 0, answered: 0, answerDaysMedian: null, answerDaysP90: null });
  // Nothing shared: publication, timeliness and usage 0; nothing asked of it, so responsiveness, legality and objections 1: 40.
  expect(r).toMatchObject({ score: 40, rank: 2 });
  expect(body.units.find((u: { unitId: string }) => u.unitId === mz.unitId)).toMatchObject({ score: 40, rank: 2, usage: { received: { interface: { calls: 3, rows: 0 } } } });
  expect(body.weights).toMatchObject({ publication: 20, timeliness: 25, circularPenalty: 5 });

  // Days are Beijing's: a minute before New Year's Day (local) is December's.
  const december = (await api().get(`/api/v1/assessments/2024-12/units/${rs.unitId}`).set(bearer(office)).expect(200)).body;
  expect(december.usage.received.interface).toEqual({ calls: 1, rows: 1 });
  const q1 = (await api().get(`/api/v1/assessments/2025-Q1/units/${ga.unitId}`).set(bearer(office)).expect(200)).body;
  expect(q1.catalogue).toMatchObject({ resourcesCatalogued: 3, resourcesPublished: 2, recordsHeld: 157 });
  const january = (await api().get(`/api/v1/assessments/2025-01/units/${ga.unitId}`).set(bearer(office)).expect(200)).body;
  expect(january.catalogue).toMatchObject({ resourcesCatalogued: 1, resourcesPublished: 1, recordsHeld: 100 });
  expect(january.usage.given.interface).toEqual({ calls: 1, rows: 1 });
});

test('the same period read twice, after a rebuild from the trail, and by the rebuild command gives identical figures', async () => {
  const first = await year(office);
  expect(await year(office)).toEqual(first);
  const replayed = await p.services.audit!.assessment.rebuild();
  // Every event sent but the refused query (which no figure counts).
  expect(replayed).toBe(sent - 1);
  expect(await year(office)).toEqual(first);
  const cli = join(__dirname, '..', '..', 'services', 'audit', 'dist', 'rebuild-cli.js');
  const { stdout } = await promisify(execFile)(process.execPath, [cli], {
    env: { ...process.env, DATABASE_URL: p.db.url, REDIS_URL, STREAM_PREFIX: p.prefix, LOG_LEVEL: 'silent', AUDIT_KEYS_DIR: '/nonexistent' },
  });
  expect(JSON.parse(stdout)).toMatchObject({ replayed });
  expect(await year(office)).toEqual(first);
});

test('each figure is traceable to the records behind it, page by page', async () => {
  const evidence = (metric: string, who = office, extra = '') => api().get(`/api/v1/assessments/2025/units/${ga.unitId}/evidence?metric=${metric}${extra}`).set(bearer(who));
  const calls = (await evidence('usage.given.calls.interface').expect(200)).body;
  expect(calls.items).toHaveLength(9);
  expect(new Set(calls.items.map((i: { type: string }) => i.type))).toEqual(new Set(['query.executed']));
  // Each is a record of the trail.
  await api().get(`/api/v1/audit/records/${calls.items[0].id}`).set(bearer(auditor)).expect(200);
  const rows = (await evidence('usage.given.rows.data-call').expect(200)).body.items;
  expect(rows.map((i: { amount: number }) => i.amount)).toEqual([1000, 1000]);
  const firstPage = (await evidence('requests.answered', office, '&limit=2').expect(200)).body;
  expect(firstPage.items).toHaveLength(2);
  const second = (await evidence('requests.answered', office, `&limit=2&cursor=${encodeURIComponent(firstPage.nextCursor)}`).expect(200)).body;
  expect(second.items).toHaveLength(1);
  expect(second.nextCursor).toBeNull();
  expect((await evidence('resources.published').expect(200)).body.items.map((i: { type: string }) => i.type)).toEqual(['resource.published', 'resource.published', 'resource.deprecated']);
  expect((await evidence('no.such.metric').expect(400)).body.code).toBe('UNKNOWN_METRIC');
  // A cursor this route did not give out never reaches SQL.
  const forged = Buffer.from(JSON.stringify(['not a time', 'not a uuid'])).toString('base64url');
  expect((await evidence('requests.answered', office, `&cursor=${forged}`).expect(400)).body.code).toBe('INVALID_CURSOR');
  expect((await api().get(`/api/v1/assessments/2025-13/units/${ga.unitId}`).set(bearer(office)).expect(400)).body.code).toBe('VALIDATION_FAILED');
});

test('a unit sees only its own assessment and evidence; other units’ are 404', async () => {
  const own = await year(rs);
  expect(own.units.map((u: { unitId: string }) => u.unitId)).toEqual([rs.unitId]);
  expect(own.units[0]).toMatchObject({ rank: 2, score: 40 });
  await api().get(`/api/v1/assessments/2025/units/${rs.unitId}`).set(bearer(rs)).expect(200);
  for (const who of [rs, mz]) {
    expect((await api().get(`/api/v1/assessments/2025/units/${ga.unitId}`).set(bearer(who)).expect(404)).body.code).toBe('NOT_FOUND');
    expect((await api().get(`/api/v1/assessments/2025/units/${ga.unitId}/evidence?metric=requests.answered`).set(bearer(who)).expect(404)).body.code).toBe('NOT_FOUND');
  }
  const mzCsv = await api().get('/api/v1/assessments/2025?format=csv').set(bearer(mz)).expect(200);
  expect(parse<{ unitId: string }>(mzCsv.text, { columns: true }).map((r) => r.unitId)).toEqual([mz.unitId]);
});

test('exports: CSV with a row per unit, an Excel workbook with a sheet per section, an SVG chart of scores', async () => {
  const csv = await api().get('/api/v1/assessments/2025').set(bearer(office)).set('accept', 'text/csv').expect(200);
  expect(csv.headers['content-type']).toMatch(/^text\/csv/);
  const rows = parse<Record<string, string>>(csv.text, { columns: true });
  expect(rows).toHaveLength(3);
  expect(rows[0]).toMatchObject({ rank: '1', unitId: ga.unitId, score: '55.5', 'requests.answerDaysP90': '12', 'usage.given.data-call.rows': '2000', 'catalogue.recordsHeld': '157' });

  const xlsx = await api()
    .get('/api/v1/assessments/2025?format=xlsx')
    .set(bearer(office))
    .buffer(true)
    .parse((res, done) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => done(null, Buffer.concat(chunks)));
    })
    .expect(200);
  const book = new ExcelJS.Workbook();
  // exceljs declares the Buffer type of an older @types/node.
  await book.xlsx.load(xlsx.body as never);
  expect(book.worksheets.map((s) => s.name)).toEqual(['Scores', 'Catalogue', 'Timeliness', 'Requests', 'Usage', 'Cases']);
  const scores = book.getWorksheet('Scores')!;
  expect(scores.getRow(1).getCell(4).value).toBe('score');
  expect(scores.getRow(2).getCell(2).value).toBe(ga.unitId);
  expect(scores.getRow(2).getCell(4).value).toBe(55.5);
  expect(book.getWorksheet('Timeliness')!.getRow(2).getCell(7).value).toBe(282);

  const svg = await api()
    .get('/api/v1/assessments/2025?format=svg')
    .set(bearer(office))
    .buffer(true)
    .parse((res, done) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => done(null, text));
    })
    .expect(200);
  expect(svg.headers['content-type']).toMatch(/^image\/svg\+xml/);
  const doc = new XMLParser({ ignoreAttributes: false }).parse(svg.body as string) as { svg: { rect: { '@_width': string }[]; '@_xmlns': string } };
  expect(doc.svg['@_xmlns']).toBe('http://www.w3.org/2000/svg');
  expect(doc.svg.rect).toHaveLength(3);
  // Bars in proportion to the scores, best first.
  expect(doc.svg.rect.map((r) => Number(r['@_width']))).toEqual([Math.round((480 * 55.5) / 100), Math.round((480 * 40) / 100), Math.round((480 * 40) / 100)]);
});
