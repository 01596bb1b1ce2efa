import request from 'supertest';
import type { ItemView } from '@gdx/contracts';
import { startPlatform, type TestPlatform } from '../helpers/platform';
import { addUser, type TestUser } from '../helpers/gateway';
import { dataQueryUrl, enc, EventWriter, grantOf, starterResource, submitRows } from './support';

/**
 * What leaves the platform (§6): masks as the catalogue declared them, secret items only
 * with an office-recorded legal basis, conditions only on granted items, decimals with
 * their scale, and impossible datetimes refused in batches and conditions alike.
 */
const CODE = '399004/0001';
const ITEMS: ItemView[] = [
  { key: 'accountId', label: '账户编号', type: 'string', length: 20, required: true, queryKey: true, sensitivity: 'public' },
  { key: 'bankAccount', label: '银行账号', type: 'string', length: 30, required: false, queryKey: false, sensitivity: 'secret', mask: { keepStart: 0, keepEnd: 4 } },
  { key: 'holder', label: '开户人', type: 'string', length: 50, required: false, queryKey: false, sensitivity: 'personal', mask: { keepStart: 1, keepEnd: 0 } },
  { key: 'pin', label: '密码提示', type: 'string', required: false, queryKey: false, sensitivity: 'secret' },
  { key: 'balance', label: '余额(元)', type: 'decimal', required: false, queryKey: false, sensitivity: 'internal', scale: 2 },
  { key: 'rate', label: '利率', type: 'decimal', required: false, queryKey: false, sensitivity: 'internal' },
  { key: 'openedAt', label: '开户时间', type: 'datetime', required: false, queryKey: true, sensitivity: 'internal' },
];
const ALL = ITEMS.map((i) => i.key);
const ROW = { accountId: 'A-1', bankAccount: '6222020200112233445', holder: '王小五', pin: '生日', balance: 999, rate: '0.0350', openedAt: '2025-01-02T08:00:00+08:00' };

let platform: TestPlatform;
let events: EventWriter;
let provider: TestUser;

beforeAll(async () => {
  platform = await startPlatform(['data-query']);
  events = new EventWriter(platform);
  provider = await addUser(platform.gateway, 'SW', ['unit_admin']);
  await events.resource(starterResource('105001/0001', provider.unitId, { code: CODE, items: ITEMS, queryKeys: ['accountId', 'openedAt'] }));
  await submit([ROW, { ...ROW, accountId: 'A-2', balance: '1234.5', rate: '12', openedAt: '2025-01-03T00:00:00Z' }]).expect(200);
});
afterAll(async () => {
  events?.close();
  await platform?.close();
});

const submit = (rows: object[]) => submitRows(platform, CODE, provider, rows);

async function consumerWith(unitKey: string, grant: { items?: string[]; clearItems?: string[]; clearLegalBasis?: string | null }): Promise<(body: object) => request.Test> {
  const unit = await addUser(platform.gateway, unitKey, ['unit_admin']);
  await events.grant(grantOf({ consumerUnitId: unit.unitId, providerUnitId: provider.unitId, resourceCode: CODE, items: ALL, ...grant }));
  return (body) =>
    request(dataQueryUrl(platform))
      .post(`/api/v1/query/${enc(CODE)}`)
      .set('authorization', `Bearer ${unit.token}`)
      .send(body);
}

test('secret and personal items are masked as declared unless the grant lets them through; secret ones need the legal basis too', async () => {
  const where = { where: { accountId: 'A-1' }, items: ['bankAccount', 'holder', 'pin'] };
  const masked = { bankAccount: '***************3445', holder: '王**', pin: '***' };

  // No clear items: the secret account number is masked (it used to leave in clear), the personal name too.
  const plain = await consumerWith('GA', {});
  expect((await plain(where).expect(200)).body.items).toEqual([masked]);

  // Listed as clear without a legal basis: the personal item leaves in clear, the secret ones stay masked.
  const listed = await consumerWith('RS', { clearItems: ['bankAccount', 'holder', 'pin'], clearLegalBasis: null });
  expect((await listed(where).expect(200)).body.items).toEqual([{ ...masked, holder: '王小五' }]);
  const blank = await consumerWith('MZ', { clearItems: ['bankAccount', 'holder', 'pin'], clearLegalBasis: '   ' });
  expect((await blank(where).expect(200)).body.items).toEqual([{ ...masked, holder: '王小五' }]);

  // A legal basis, but the item not listed: still masked.
  const basisOnly = await consumerWith('WJ', { clearItems: ['holder'], clearLegalBasis: '《反洗钱法》第三十五条' });
  expect((await basisOnly(where).expect(200)).body.items).toEqual([{ ...masked, holder: '王小五' }]);

  // Listed and with the office-recorded legal basis: the secret items it lists leave in clear.
  const lawful = await consumerWith('TJ', { clearItems: ['bankAccount'], clearLegalBasis: '《反洗钱法》第三十五条' });
  expect((await lawful(where).expect(200)).body.items).toEqual([{ ...masked, bankAccount: ROW.bankAccount }]);
});

test('a condition on a query key the grant does not cover is refused with the condition named', async () => {
  const ask = await consumerWith('ZJ', { items: ['accountId', 'balance'] });
  const res = await ask({ where: { accountId: 'A-1', openedAt: { gte: '2025-01-01T00:00:00Z', lte: '2025-01-02T00:00:00Z' } } }).expect(403);
  expect(res.body).toMatchObject({ code: 'ITEM_NOT_GRANTED', field: 'body.where.openedAt', item: 'openedAt' });
  expect(res.body.items).toBeUndefined();
  expect((await ask({ where: { accountId: 'A-1' } }).expect(200)).body.items).toEqual([{ accountId: 'A-1', balance: '999.00' }]);
});

test('decimals are served as strings with their declared scale; without one, as stored', async () => {
  const ask = await consumerWith('GJJ', { items: ['accountId', 'balance', 'rate'] });
  expect((await ask({ where: { accountId: { in: ['A-1', 'A-2'] } } }).expect(200)).body.items).toEqual([
    { accountId: 'A-1', balance: '999.00', rate: '0.0350' },
    { accountId: 'A-2', balance: '1234.50', rate: '12' },
  ]);
  // More digits than the scale would be rounded away when served: the batch is refused with the row and item named.
  const res = await submit([{ ...ROW, accountId: 'A-3', balance: '1.005' }]).expect(422);
  expect(res.body).toMatchObject({ code: 'BATCH_REJECTED', errors: [{ row: 1, item: 'balance', reason: expect.stringMatching(/more than 2 digits/) }] });
});

test('impossible datetimes: 422 naming the row and item in a batch, 400 in a condition', async () => {
  const impossible = ['2025-02-30T08:00:00+08:00', '0000-01-01T00:00:00Z', '0001-01-01T00:00:00+08:00', '2025-03-01T08:00:00+20:00'];
  for (const [n, openedAt] of impossible.entries()) {
    const res = await submit([ROW, { ...ROW, accountId: `B-${n}`, openedAt }]).expect(422);
    expect({ openedAt, body: res.body }).toMatchObject({ openedAt, body: { code: 'BATCH_REJECTED', errors: [{ row: 2, item: 'openedAt', reason: expect.stringMatching(/ISO 8601/) }] } });
  }
  const ask = await consumerWith('SCJG', { items: ['accountId', 'openedAt'] });
  for (const value of impossible) {
    const scalar = await ask({ where: { openedAt: value } }).expect(400);
    expect({ value, body: scalar.body }).toMatchObject({ value, body: { code: 'INVALID_CONDITION', field: 'body.where.openedAt' } });
    const range = await ask({ where: { openedAt: { gte: value } } }).expect(400);
    expect({ value, body: range.body }).toMatchObject({ value, body: { code: 'INVALID_CONDITION', field: 'body.where.openedAt.gte' } });
  }
  expect((await ask({ where: { openedAt: { gte: '2025-01-02T00:00:00Z', lte: '2025-01-02T23:59:59+08:00' } } }).expect(200)).body.items).toEqual([
    { accountId: 'A-1', openedAt: '2025-01-02T00:00:00.000Z' },
  ]);
});
