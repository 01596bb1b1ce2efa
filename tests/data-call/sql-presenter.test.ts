import request from 'supertest';
import fc from 'fast-check';
import type { ItemView } from '@gdx/contracts';
import { startPlatform, type TestPlatform } from '../helpers/platform';
import { addUser, type TestUser } from '../helpers/gateway';
import { dataQueryUrl, enc, EventWriter, grantOf, starterResource } from '../data-query/support';

/**
 * A pull's rows are presented by PostgreSQL (data-call/sql-presenter.ts), an interface query's
 * by the service (item-values.ts, masking.ts): the same value must leave the same way by either
 * mode, for every item type, masked or clear, whatever the text holds (quotes, commas, line
 * breaks, control characters, characters beyond the BMP), integers beyond 2^53, decimals with
 * and without a declared scale, datetimes with microseconds and offsets.
 */
const CODE = '399009/0001';
const ITEMS: ItemView[] = [
  { key: 'ref', label: '编号', type: 'string', length: 40, required: true, queryKey: true, sensitivity: 'public' },
  { key: 'txt', label: '文本', type: 'string', required: false, queryKey: false, sensitivity: 'public' },
  { key: 'txtMasked', label: '姓名', type: 'string', required: false, queryKey: false, sensitivity: 'personal', mask: { keepStart: 1, keepEnd: 1 } },
  { key: 'sec', label: '密文', type: 'string', required: false, queryKey: false, sensitivity: 'secret' },
  { key: 'kind', label: '类别', type: 'code', required: false, queryKey: false, sensitivity: 'internal' },
  { key: 'day', label: '日期', type: 'date', required: false, queryKey: false, sensitivity: 'public' },
  { key: 'at', label: '时间', type: 'datetime', required: false, queryKey: false, sensitivity: 'public' },
  { key: 'atMasked', label: '时间(遮)', type: 'datetime', required: false, queryKey: false, sensitivity: 'personal', mask: { keepStart: 4, keepEnd: 0 } },
  { key: 'n', label: '整数', type: 'integer', required: false, queryKey: false, sensitivity: 'public' },
  { key: 'nMasked', label: '整数(遮)', type: 'integer', required: false, queryKey: false, sensitivity: 'personal', mask: { keepStart: 0, keepEnd: 2 } },
  { key: 'dec2', label: '金额', type: 'decimal', required: false, queryKey: false, sensitivity: 'internal', scale: 2 },
  { key: 'dec', label: '比率', type: 'decimal', required: false, queryKey: false, sensitivity: 'internal' },
  { key: 'decMasked', label: '余额', type: 'decimal', required: false, queryKey: false, sensitivity: 'secret', scale: 3, mask: { keepStart: 2, keepEnd: 0 } },
  { key: 'flag', label: '标志', type: 'boolean', required: false, queryKey: false, sensitivity: 'public' },
  { key: 'flagMasked', label: '标志(遮)', type: 'boolean', required: false, queryKey: false, sensitivity: 'personal' },
];
const KEYS = ITEMS.map((i) => i.key);

let platform: TestPlatform;
let events: EventWriter;
let provider: TestUser;

beforeAll(async () => {
  platform = await startPlatform(['request-approval', 'data-query']);
  events = new EventWriter(platform);
  provider = await addUser(platform.gateway, 'SW', ['unit_admin']);
  await events.resource(starterResource('105001/0001', provider.unitId, { code: CODE, items: ITEMS, queryKeys: ['ref'] }));
});
afterAll(async () => {
  events?.close();
  await platform?.close();
});

// NUL is refused in any text (batches answer 422 for it): everything else may come.
const text = fc.string({ unit: 'binary', maxLength: 12 }).map((s) => s.split(String.fromCharCode(0)).join(''));
const pad = (n: number, w = 2) => String(n).padStart(w, '0');
const datetime = fc.tuple(fc.integer({ min: -2_000_000_000_000, max: 4_000_000_000_000 }), fc.integer({ min: 0, max: 999 }), fc.integer({ min: -12, max: 14 })).map(([ms, micro, offset]) => {
  const d = new Date(ms + offset * 3_600_000);
  const stamp = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${pad(d.getUTCMilliseconds(), 3)}${pad(micro, 3)}`;
  return `${stamp}${offset < 0 ? '-' : '+'}${pad(Math.abs(offset))}:00`;
});
const decimal = (scale: number) =>
  fc.tuple(fc.bigInt({ min: -(10n ** 15n), max: 10n ** 15n }), fc.integer({ min: 0, max: scale })).map(([digits, s]) => {
    const abs = (digits < 0n ? -digits : digits).toString().padStart(s + 1, '0');
    return `${digits < 0n ? '-' : ''}${s ? `${abs.slice(0, abs.length - s)}.${abs.slice(abs.length - s)}` : abs}`;
  });
const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: null, freq: 6 });
const row = fc.record({
  txt: maybe(text),
  txtMasked: maybe(text),
  sec: maybe(text),
  kind: maybe(text),
  day: maybe(fc.date({ min: new Date('0900-01-01'), max: new Date('9999-12-31'), noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10))),
  at: maybe(datetime),
  atMasked: maybe(datetime),
  n: maybe(fc.bigInt({ min: -(10n ** 18n) + 1n, max: 10n ** 18n - 1n }).map(String)),
  nMasked: maybe(fc.integer().map(String)),
  dec2: maybe(decimal(2)),
  dec: maybe(decimal(6)),
  decMasked: maybe(decimal(3)),
  flag: maybe(fc.boolean()),
  flagMasked: maybe(fc.boolean()),
});

function csvField(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

test.each([
  ['everything masked that is masked', { clearItems: [] as string[], clearLegalBasis: null }],
  ['personal and secret items in clear', { clearItems: ['txtMasked', 'sec', 'atMasked', 'nMasked', 'decMasked', 'flagMasked'], clearLegalBasis: '《条例》第十九条' }],
])('a pull presents every value as an interface query does: %s', async (_name, clear) => {
  const rows = fc.sample(row, { numRuns: 90, seed: 20261202 }).map((r, i) => ({ ref: `${clear.clearItems.length}-${i}`, ...r }));
  await request(dataQueryUrl(platform))
    .post(`/api/v1/data/${enc(CODE)}/batches`)
    .set('authorization', `Bearer ${provider.token}`)
    .set('content-type', 'application/x-ndjson')
    .send(rows.map((r) => JSON.stringify(r)).join('\n'))
    .expect((r) => expect([r.status, r.body.errors?.slice(0, 5)]).toEqual([200, undefined]));
  const unit = await addUser(platform.gateway, clear.clearItems.length ? 'TJ' : 'GJJ', ['unit_admin']);
  await events.grant(grantOf({ consumerUnitId: unit.unitId, providerUnitId: provider.unitId, resourceCode: CODE, items: KEYS, modes: ['interface', 'data-call'], dailyQuota: 1_000_000, ...clear }));
  const dq = () => request(dataQueryUrl(platform));
  const queried = await dq()
    .post(`/api/v1/query/${enc(CODE)}`)
    .set('authorization', `Bearer ${unit.token}`)
    .send({ where: { ref: { in: rows.map((r) => r.ref) } }, limit: 100 })
    .expect(200);
  const byRef = new Map((queried.body.items as Record<string, unknown>[]).map((r) => [r.ref, r]));
  expect(byRef.size).toBe(rows.length);

  const ndjson = await dq()
    .get(`/api/v1/data/${enc(CODE)}/records`)
    .set('authorization', `Bearer ${unit.token}`)
    .expect(200);
  const pulled = ndjson.text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((o) => !('_cursor' in o) && !('_end' in o) && String(o.ref).startsWith(`${clear.clearItems.length}-`));
  expect(pulled.length).toBe(rows.length);
  for (const p of pulled) expect(p).toStrictEqual(byRef.get(p.ref));

  // CSV: the same values as text, quoted by RFC 4180.
  const csv = await dq()
    .get(`/api/v1/data/${enc(CODE)}/records`)
    .query({ format: 'csv' })
    .set('authorization', `Bearer ${unit.token}`)
    .expect(200);
  const expectedCsv = [...byRef.values()].map((r) => KEYS.map((k) => csvField(r[k])).join(','));
  for (const line of expectedCsv) expect(csv.text).toContain(`\r\n${line}\r\n`);
});
