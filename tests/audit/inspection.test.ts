import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { Redis } from 'ioredis';
import { streamKey } from '@gdx/events';
import { untypedEvent } from '@gdx/contracts';
import { startPlatform, type TestPlatform } from '../helpers/platform';
import { addUser, type TestUser } from '../helpers/gateway';
import { REDIS_URL } from '../helpers/redis';
import { eventually } from '../helpers/wait';

/**
 * Issue 15, security inspection (安全督查): each rule fires on a crafted pattern and stays quiet
 * on normal traffic of the same volume; alerts are visible to the office and to the unit whose
 * client made the calls, acknowledged by an auditor, on the record and counted for operators.
 * Events go on the streams as data-query and the gateway would write them, stamped in June 2025.
 */
let p: TestPlatform;
let redis: Redis;
let auditor: TestUser;
let office: TestUser;
let rs: TestUser;
let mz: TestUser;
let ga: TestUser;
const ids: string[] = [];
const bearer = (u: TestUser) => ({ authorization: `Bearer ${u.token}` });
const api = () => request(p.gatewayUrl);
const HOUR = 3_600_000;
const WEEK = 7 * 24 * HOUR;
/** Monday 2 June 2025, 10:00 in Beijing. */
const MONDAY = Date.parse('2025-06-02T02:00:00Z');

const text = (v: unknown, otherwise: string) => (typeof v === 'string' ? v : otherwise);

async function put(type: string, at: number, data: Record<string, unknown>): Promise<void> {
  const e = untypedEvent(type, {
    actor: { kind: 'client', unitId: text(data.unitId, ''), clientId: text(data.clientId, '') },
    subject: text(data.resourceCode, 'x'),
    occurredAt: new Date(at),
    data,
  });
  await redis.xadd(streamKey(p.prefix, type.split('.')[0]), '*', 'event', JSON.stringify(e));
  ids.push(e.id);
}

/** Every event put so far has been through the inspection consumer. */
async function inspected(): Promise<void> {
  const db = p.services.audit!.db;
  const relevant = ids.length;
  await eventually(
    async () => Number((await db.query(`SELECT count(*)::int AS n FROM processed_event WHERE consumer_group = 'audit-inspection' AND event_id = ANY($1::uuid[])`, [ids]))[0].n) >= relevant,
    20_000,
    'inspection to catch up',
  );
}

const query = (unit: TestUser, clientId: string, grantId: string, extra: Record<string, unknown> = {}) => ({
  unitId: unit.unitId,
  clientId,
  grantId,
  resourceCode: 'GA/0001',
  providerUnitId: ga.unitId,
  mode: 'interface',
  items: ['name'],
  rowCount: 1,
  result: 'allowed',
  latencyMs: 1,
  requestId: randomUUID(),
  sourceAddress: '10.0.0.1',
  via: 'data-query',
  ...extra,
});

const grantRS = randomUUID();
const grantMZ = randomUUID();
const lateGrant = randomUUID();

beforeAll(async () => {
  p = await startPlatform(['audit'], {
    config: { audit: { inspectVolumeMinCalls: 20, inspectEnumerationMinKeys: 30, inspectSequentialRun: 10, inspectDenialBurst: 10 } },
  });
  redis = new Redis(REDIS_URL);
  office = await addUser(p.gateway, 'OFFICE', ['office_admin']);
  auditor = await addUser(p.gateway, 'OFFICE', ['office_auditor']);
  rs = await addUser(p.gateway, 'RS', ['unit_admin']);
  mz = await addUser(p.gateway, 'MZ', ['unit_admin']);
  ga = await addUser(p.gateway, 'GA', ['unit_admin']);

  // Volume: four weeks of 30 calls in Monday's 10 o'clock hour for two grants; this week 35 (normal) and 200 (far above).
  for (let week = 4; week >= 1; week--) {
    for (let i = 0; i < 30; i++) {
      await put('query.executed', MONDAY - week * WEEK + i * 1000, query(rs, 'rs-system', grantRS));
      await put('query.executed', MONDAY - week * WEEK + i * 1000, query(mz, 'mz-system', grantMZ));
    }
  }
  await inspected();
  for (let i = 0; i < 35; i++) await put('query.executed', MONDAY + i * 1000, query(rs, 'rs-system', grantRS));
  for (let i = 0; i < 200; i++) await put('query.executed', MONDAY + i * 100, query(mz, 'mz-system', grantMZ));

  // Enumeration, on Wednesday (no volume history then): 40 distinct keys, 30 not found, from one client; 40 all found from another.
  const WEDNESDAY = MONDAY + 2 * 24 * HOUR;
  for (let i = 0; i < 40; i++) await put('query.executed', WEDNESDAY + i * 1000, query(rs, 'rs-prober', grantRS, { rowCount: i < 30 ? 0 : 1, keys: [{ digest: `probe-${i}` }] }));
  for (let i = 0; i < 40; i++) await put('query.executed', WEDNESDAY + i * 1000, query(mz, 'mz-clerk', grantMZ, { keys: [{ digest: `clerk-${i}` }] }));
  // 12 consecutive sequence codes of one region and birth date; and 12 spread out.
  for (let i = 0; i < 12; i++) await put('query.executed', WEDNESDAY + i * 1000, query(rs, 'rs-walker', grantRS, { keys: [{ digest: 'same-prefix', seq: 100 + i }] }));
  for (let i = 0; i < 12; i++) await put('query.executed', WEDNESDAY + i * 1000, query(mz, 'mz-family', grantMZ, { keys: [{ digest: 'same-prefix', seq: 100 + 7 * i }] }));

  // Off hours: 20,000 rows on Sunday at 02:00, the same on Tuesday at 11:00, and 500 rows at night.
  const pull = (unit: TestUser, rows: number) => ({
    deliveryId: randomUUID(),
    unitId: unit.unitId,
    providerUnitId: ga.unitId,
    grantId: grantRS,
    resourceCode: 'GA/0001',
    mode: 'data-call',
    kind: 'pull',
    rowCount: rows,
    result: 'allowed',
    clientId: 'rs-bulk',
  });
  await put('data.delivered', Date.parse('2025-06-07T18:00:00Z'), pull(rs, 20_000));
  await put('data.delivered', Date.parse('2025-06-03T03:00:00Z'), pull(rs, 20_000));
  await put('data.delivered', Date.parse('2025-06-03T18:00:00Z'), pull(mz, 500));

  // Denials: 12 NO_GRANT in one minute; 12 spread over 24 minutes; 12 rate-limited in one minute.
  const THURSDAY = MONDAY + 3 * 24 * HOUR;
  const denied = (clientId: string, reason: string) => query(mz, clientId, grantMZ, { result: 'denied', reason, rowCount: 0, grantId: null });
  for (let i = 0; i < 12; i++) await put('query.denied', THURSDAY + i * 2000, denied('mz-scanner', 'NO_GRANT'));
  for (let i = 0; i < 12; i++) await put('query.denied', THURSDAY + i * 120_000, denied('mz-slow', 'ITEM_NOT_GRANTED'));
  for (let i = 0; i < 12; i++) await put('query.denied', THURSDAY + i * 2000, denied('mz-busy', 'RATE_LIMITED'));

  // After the purpose period: a grant valid until 10 June, used on the 9th and on the 11th.
  await put('grant.issued', MONDAY, {
    id: lateGrant,
    consumerUnitId: rs.unitId,
    providerUnitId: ga.unitId,
    resourceCode: 'GA/0001',
    validTo: '2025-06-10T00:00:00.000Z',
    version: 1,
    status: 'active',
  });
  await inspected();
  await put('query.executed', Date.parse('2025-06-09T03:00:00Z'), query(rs, 'rs-late', lateGrant));
  await put('query.executed', Date.parse('2025-06-11T03:00:00Z'), query(rs, 'rs-late', lateGrant));
  await inspected();
});
afterAll(async () => {
  redis?.disconnect();
  await p?.close();
});

interface Alert {
  id: string;
  rule: string;
  unitId: string;
  clientId: string | null;
  grantId: string | null;
  figures: Record<string, number | string>;
  recordIds: string[];
  status: string;
}

async function alerts(who: TestUser, query = ''): Promise<Alert[]> {
  return (await api().get(`/api/v1/inspections/alerts?limit=200${query}`).set(bearer(who)).expect(200)).body.items as Alert[];
}

test('volume: far above the 28-day median for that hour of the week fires (per grant and per unit); the normal week does not', async () => {
  const volume = await alerts(auditor, '&rule=volume');
  expect(volume.map((a) => [a.unitId, a.grantId, a.figures.scope, a.figures.baselineMedian, a.figures.baselineWeeks]).sort()).toEqual(
    [
      [mz.unitId, grantMZ, 'grant', 30, 4],
      [mz.unitId, null, 'unit', 30, 4],
    ].sort(),
  );
  // Raised as the hour's calls crossed 5 × 30, not at the end of the hour.
  for (const a of volume) expect(a.figures.calls).toBeGreaterThan(150);
  expect(volume[0].recordIds.length).toBeGreaterThan(0);
});

test('enumeration: many keys mostly not found, or consecutive identity numbers, fire; as many found or scattered keys do not', async () => {
  const found = await alerts(auditor, '&rule=enumeration');
  expect(found.map((a) => [a.clientId, a.figures.pattern]).sort()).toEqual(
    [
      ['rs-prober', 'not-found'],
      ['rs-walker', 'sequential'],
    ].sort(),
  );
  const prober = found.find((a) => a.clientId === 'rs-prober')!;
  // Raised once the window held 30 distinct keys with at least half not found (batches decide when exactly).
  expect(Number(prober.figures.distinctKeys)).toBeGreaterThanOrEqual(30);
  expect(Number(prober.figures.notFoundShare)).toBeGreaterThanOrEqual(0.5);
  expect(Number(prober.figures.notFound)).toBe(Math.round(Number(prober.figures.distinctKeys) * Number(prober.figures.notFoundShare)));
  expect(found.find((a) => a.clientId === 'rs-walker')!.figures.longestSequentialRun).toBeGreaterThanOrEqual(10);
});

test('off-hours: a bulk pull at night on a weekend fires; the same in working hours, or a small one at night, does not', async () => {
  const off = await alerts(auditor, '&rule=off-hours');
  expect(off).toHaveLength(1);
  expect(off[0]).toMatchObject({ unitId: rs.unitId, figures: { rows: 20_000, localTime: '2025-06-08 02:00' } });
});

test('denials: a burst of refusals for want of a grant fires; slow ones or refusals of another kind do not', async () => {
  const bursts = await alerts(auditor, '&rule=denials');
  expect(bursts.map((a) => a.clientId)).toEqual(['mz-scanner']);
  // Raised once the window's count reached the burst (where the batch happened to end).
  expect(Number(bursts[0].figures.refusals)).toBeGreaterThanOrEqual(10);
  expect(Number(bursts[0].figures.refusals)).toBeLessThanOrEqual(12);
});

test('after-purpose: use after the grant’s period fires, use within it does not', async () => {
  const late = await alerts(auditor, '&rule=after-purpose');
  expect(late).toHaveLength(1);
  expect(late[0]).toMatchObject({ grantId: lateGrant, unitId: rs.unitId, figures: { grantValidTo: '2025-06-10T00:00:00.000Z', usedAt: '2025-06-11T03:00:00.000Z' } });
});

test('a unit sees only the alerts about its own clients; an auditor acknowledges with a note; alerts are on the record and counted', async () => {
  const all = await alerts(auditor);
  expect(all).toHaveLength(7);
  const mine = await alerts(rs);
  expect(mine.every((a) => a.unitId === rs.unitId)).toBe(true);
  expect(mine.map((a) => a.rule).sort()).toEqual(['after-purpose', 'enumeration', 'enumeration', 'off-hours']);
  expect((await alerts(mz)).every((a) => a.unitId === mz.unitId)).toBe(true);
  expect(await alerts(ga)).toEqual([]);
  const theirs = (await alerts(auditor, `&unit=${mz.unitId}`))[0];
  expect((await api().get(`/api/v1/inspections/alerts/${theirs.id}`).set(bearer(rs)).expect(404)).body.code).toBe('NOT_FOUND');
  expect((await api().post(`/api/v1/inspections/alerts/${theirs.id}/acknowledge`).set(bearer(rs)).send({ note: 'x' }).expect(404)).body.code).toBe('NOT_FOUND');
  const own = mine[0];
  expect((await api().post(`/api/v1/inspections/alerts/${own.id}/acknowledge`).set(bearer(rs)).send({ note: '自查' }).expect(403)).body.code).toBe('ROLE_REQUIRED');
  const acked = (await api().post(`/api/v1/inspections/alerts/${own.id}/acknowledge`).set(bearer(auditor)).send({ note: '已核实，系批量比对任务' }).expect(200)).body;
  expect(acked).toMatchObject({ status: 'acknowledged', note: '已核实，系批量比对任务', acknowledgedBy: auditor.id });
  expect((await api().post(`/api/v1/inspections/alerts/${own.id}/acknowledge`).set(bearer(office)).send({ note: '再次' }).expect(409)).body.code).toBe('ALREADY_ACKNOWLEDGED');
  expect((await alerts(auditor, '&status=open')).map((a) => a.id)).not.toContain(own.id);

  // On the stream and on the trail, the unit's record.
  const events = (await redis.xrange(streamKey(p.prefix, 'inspection'), '-', '+')).map(([, f]) => JSON.parse(f[1]) as { type: string; data: { alertId: string; rule: string } });
  expect(events.filter((e) => e.type === 'inspection.alert')).toHaveLength(7);
  expect(events.filter((e) => e.type === 'inspection.acknowledged').map((e) => e.data.alertId)).toEqual([own.id]);
  await eventually(
    async () => {
      const res = await api().get('/api/v1/audit/records?action=inspection.alert').set(bearer(rs));
      return res.status === 200 && (res.body.items as unknown[]).length === 4;
    },
    15_000,
    'the alerts on the unit’s record',
  );

  const metrics = await request(`http://127.0.0.1:${(p.services.audit!.server.address() as { port: number }).port}`)
    .get('/metrics')
    .expect(200);
  expect(metrics.text).toMatch(/audit_inspection_alerts_total\{rule="volume",service="audit"\} 2/);
  expect(metrics.text).toMatch(/audit_inspection_alerts_total\{rule="enumeration",service="audit"\} 2/);

  expect((await api().get('/api/v1/inspections/rules').set(bearer(rs)).expect(403)).body.code).toBe('ROLE_REQUIRED');
  expect((await api().get('/api/v1/inspections/rules').set(bearer(auditor)).expect(200)).body).toMatchObject({ volumeFactor: 5, denialBurst: 10 });
});

test('windows no rule reads again are purged; alerts stay', async () => {
  const db = p.services.audit!.db;
  const before = Number((await db.query('SELECT count(*)::int AS n FROM inspection_counter'))[0].n);
  // As if it were August 2025: June's key windows and the May baseline weeks are done with.
  const purged = await p.services.audit!.inspection.purge(new Date('2025-08-01T00:00:00Z'));
  expect(purged.keys).toBeGreaterThan(0);
  expect(purged.counters).toBeGreaterThan(0);
  expect(Number((await db.query('SELECT count(*)::int AS n FROM inspection_counter'))[0].n)).toBe(before - purged.counters);
  expect(Number((await db.query('SELECT count(*)::int AS n FROM inspection_key'))[0].n)).toBe(0);
  // The marks are recent (written today): kept a week.
  expect(purged.processed).toBe(0);
  expect(await alerts(auditor)).toHaveLength(7);
});
