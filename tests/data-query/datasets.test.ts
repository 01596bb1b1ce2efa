import request from 'supertest';
import type { ItemType, ItemView } from '@gdx/contracts';
import { startPlatform, type TestPlatform } from '../helpers/platform';
import { addUnit, addUser } from '../helpers/gateway';
import { dataQueryUrl, enc, EventWriter, grantOf, starterResource } from './support';

let platform: TestPlatform;
let events: EventWriter;
let providerUnitId: string;

beforeAll(async () => {
  platform = await startPlatform(['data-query']);
  events = new EventWriter(platform);
  providerUnitId = (await addUnit(platform.gateway, 'GA')).id;
});
afterAll(async () => {
  events?.close();
  await platform?.close();
});

const db = () => platform.services['data-query']!.db;

async function columns(table: string): Promise<Record<string, string>> {
  const rows: { column_name: string; data_type: string; character_maximum_length: number | null }[] = await db().query(
    `SELECT column_name, data_type, character_maximum_length FROM information_schema.columns WHERE table_schema = 'data_query_rows' AND table_name = $1`,
    [table],
  );
  return Object.fromEntries(rows.map((r) => [r.column_name, r.character_maximum_length ? `${r.data_type}(${r.character_maximum_length})` : r.data_type]));
}

async function indexes(table: string): Promise<string[]> {
  const rows: { indexdef: string }[] = await db().query(`SELECT indexdef FROM pg_indexes WHERE schemaname = 'data_query_rows' AND tablename = $1`, [table]);
  return rows.map((r) => r.indexdef.replace(/^.* USING btree /, ''));
}

test('resource.published creates a typed table with indexes on the query keys, and the dataset record', async () => {
  await events.resource(starterResource('101001/0001', providerUnitId));
  expect(await columns('r_101001_0001')).toEqual({
    id_number: 'character varying(18)',
    name: 'character varying(50)',
    sex: 'text',
    ethnicity: 'text',
    birth_date: 'date',
    region_code: 'text',
    household_address: 'character varying(200)',
    _change_seq: 'bigint',
    _updated_at: 'timestamp with time zone',
    _deleted_at: 'timestamp with time zone',
    // The opaque row id of the pull order (data calls).
    _row_id: 'bigint',
  });
  expect((await indexes('r_101001_0001')).sort()).toEqual(['(_change_seq, _row_id)', '(id_number)', '(region_code, id_number)']);
  const [ds] = await db().query(
    `SELECT code, table_name, provider_unit_id, upsert_key, status, version, change_seq, last_updated_at, jsonb_array_length(items) AS items FROM dataset WHERE code = '101001/0001'`,
  );
  expect(ds).toEqual({
    code: '101001/0001',
    table_name: 'r_101001_0001',
    provider_unit_id: providerUnitId,
    upsert_key: 'idNumber',
    status: 'published',
    version: 1,
    change_seq: '0',
    last_updated_at: null,
    items: 7,
  });
  expect(platform.services['data-query']!.dataQuery.datasets.get('101001/0001')?.tableName).toBe('r_101001_0001');
});

test('every type of the catalogue maps to its column type', async () => {
  const item = (key: string, label: string, type: ItemType, more: Partial<ItemView> = {}): ItemView => ({ key, label, type, required: false, queryKey: false, sensitivity: 'internal', ...more });
  const items = [
    item('permitNo', '许可证号', 'string', { length: 30, queryKey: true, required: true }),
    item('kind', '类别', 'code', { codeTable: '许可类别' }),
    item('issued', '发证日期', 'date', { queryKey: true }),
    item('checkedAt', '核验时间', 'datetime'),
    item('staff', '人数', 'integer'),
    item('capital', '资本', 'decimal'),
    item('active', '有效', 'boolean'),
    item('note', '备注', 'string'),
  ];
  await events.resource({ ...starterResource('105001/0001', providerUnitId), code: '399001/0001', items });
  expect(await columns('r_399001_0001')).toMatchObject({
    permit_no: 'character varying(30)',
    kind: 'text',
    issued: 'date',
    checked_at: 'timestamp with time zone',
    staff: 'bigint',
    capital: 'numeric',
    active: 'boolean',
    note: 'text',
  });
  expect(await indexes('r_399001_0001')).toEqual(expect.arrayContaining(['(permit_no)', '(issued, permit_no)']));
});

test('resource.updated adds new items, widens lengths and keeps the columns of removed items; older versions change nothing', async () => {
  const v1 = starterResource('101001/0001', providerUnitId);
  const items = v1.items.filter((i) => i.key !== 'ethnicity').map((i) => (i.key === 'householdAddress' ? { ...i, length: 300 } : i));
  items.push({ key: 'phone', label: '联系电话', type: 'string', length: 20, required: false, queryKey: true, sensitivity: 'personal' });
  await events.resource({ ...v1, items, version: 2 }, 'resource.updated');
  const cols = await columns('r_101001_0001');
  expect(cols).toMatchObject({ phone: 'character varying(20)', household_address: 'character varying(300)', ethnicity: 'text' });
  expect(await indexes('r_101001_0001')).toContain('(phone, id_number)');
  const [ds] = await db().query(`SELECT version, items FROM dataset WHERE code = '101001/0001'`);
  expect(ds.version).toBe(2);
  expect(ds.items.map((i: { key: string }) => i.key)).toEqual(['idNumber', 'name', 'sex', 'birthDate', 'regionCode', 'householdAddress', 'phone']);

  // A late copy of version 1 must not take the item list back.
  await events.resource(v1, 'resource.updated');
  const [after] = await db().query(`SELECT version, jsonb_array_length(items) AS n FROM dataset WHERE code = '101001/0001'`);
  expect(after).toEqual({ version: 2, n: 7 });
});

test('resource.deprecated stops the dataset but keeps its table', async () => {
  const provider = await addUser(platform.gateway, 'ZRZY', ['unit_admin']);
  const consumer = await addUser(platform.gateway, 'HY', ['unit_admin']);
  const view = starterResource('104001/0001', provider.unitId);
  await events.resource(view);
  const batch = (token: string) =>
    request(dataQueryUrl(platform))
      .post(`/api/v1/data/${enc(view.code)}/batches`)
      .set('authorization', `Bearer ${token}`)
      .set('content-type', 'application/x-ndjson')
      .send(JSON.stringify({ parcelId: 'P-1', regionCode: '340321' }));
  await batch(provider.token).expect(200);
  await events.grant(grantOf({ consumerUnitId: consumer.unitId, providerUnitId: provider.unitId, resourceCode: view.code, items: ['parcelId', 'regionCode'] }));
  const query = () =>
    request(dataQueryUrl(platform))
      .post(`/api/v1/query/${enc(view.code)}`)
      .set('authorization', `Bearer ${consumer.token}`)
      .send({ where: { parcelId: 'P-1' } });
  expect((await query().expect(200)).body.items).toEqual([{ parcelId: 'P-1', regionCode: '340321' }]);

  await events.resource({ ...view, status: 'deprecated', version: 2 }, 'resource.deprecated');
  const [ds] = await db().query(`SELECT status, version FROM dataset WHERE code = '104001/0001'`);
  expect(ds).toEqual({ status: 'deprecated', version: 2 });
  expect(Object.keys(await columns('r_104001_0001'))).toContain('parcel_id');
  expect(platform.services['data-query']!.dataQuery.datasets.get('104001/0001')?.status).toBe('deprecated');
  expect((await batch(provider.token).expect(409)).body.code).toBe('RESOURCE_DEPRECATED');
  expect((await query().expect(410)).body.code).toBe('RESOURCE_DEPRECATED');
  const [kept] = await db().query('SELECT count(*)::int AS n FROM data_query_rows.r_104001_0001');
  expect(kept.n).toBe(1);
});
