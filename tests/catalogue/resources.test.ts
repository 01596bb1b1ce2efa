import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { checkEvent } from '@gdx/contracts';
import { startPlatform, type TestPlatform } from '../helpers/platform';
import { addUser, type TestUser } from '../helpers/gateway';
import { auth, path, resourceBody, resourceEvents } from './catalogue-fixtures';

let platform: TestPlatform;
let office: TestUser;
let auditor: TestUser;
let gaAdmin: TestUser;
let gaOperator: TestUser;
let rsAdmin: TestUser;
const api = () => request(platform.gatewayUrl);

beforeAll(async () => {
  platform = await startPlatform(['catalogue']);
  office = await addUser(platform.gateway, 'OFFICE', ['office_admin']);
  auditor = await addUser(platform.gateway, 'OFFICE', ['office_auditor']);
  gaAdmin = await addUser(platform.gateway, 'GA', ['unit_admin']);
  gaOperator = await addUser(platform.gateway, 'GA', ['unit_operator']);
  rsAdmin = await addUser(platform.gateway, 'RS', ['unit_admin']);
  // One call first so the catalogue has fetched the gateway's JWKS before requests race:
  // JwksClient (libs/auth) answers "unknown key" to callers that arrive while its first
  // fetch is in flight (reported to the lead).
  await api().get('/api/v1/catalogue/elements').set(auth(office)).expect(200);
});
afterAll(async () => {
  await platform?.close();
});

const create = (u: TestUser, body: Record<string, unknown>) => api().post('/api/v1/catalogue/resources').set(auth(u)).send(body);

describe('creating a resource', () => {
  test('the provider’s unit admin creates a draft at version 1 with the unit’s name and credit code', async () => {
    const res = await create(gaAdmin, resourceBody(gaAdmin.unitId, { code: '301010/0001', classification: ['3', '01', '010'] })).expect(201);
    expect(res.body).toMatchObject({
      code: '301010/0001',
      classification: ['3', '01', '010'],
      status: 'draft',
      version: 1,
      publishedAt: null,
      providerUnitId: gaAdmin.unitId,
      providerUnitName: '蚌埠市公安局',
      providerCreditCode: '11340300284135459M',
      format: '数据库',
      sharing: { type: 'unconditional' },
      methods: ['interface', 'data-call'],
      open: { open: true, conditions: '名称和统一社会信用代码向社会开放' },
      updateCycle: 'monthly',
      relatedCodes: [],
      queryKeys: ['creditCode', 'regionCode'],
    });
    expect(res.body.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.body.createdAt).toBe(res.body.updatedAt);
    // Defaults are written out so readers need not know them.
    expect(res.body.items[1]).toEqual({ key: 'orgName', label: '社会组织名称', type: 'string', length: 200, required: true, queryKey: false, sensitivity: 'internal' });
    expect(res.body.items[3].sensitivity).toBe('personal');
  });

  test('the code, which contains a slash, is read back URL-encoded through the gateway', async () => {
    const res = await api().get(path('301010/0001')).set(auth(gaAdmin)).expect(200);
    expect(res.body.code).toBe('301010/0001');
    expect(path('301010/0001')).toContain('301010%2F0001');
    // Unencoded, the slash is a path separator: no such route.
    await api().get('/api/v1/catalogue/resources/301010/0001').set(auth(gaAdmin)).expect(404);
    const bad = await api().get(path('abc')).set(auth(gaAdmin)).expect(400);
    expect(bad.body.field).toBe('params.code');
  });

  test('the office admin may create for any unit', async () => {
    const res = await create(office, resourceBody(rsAdmin.unitId, { code: '302009/0001', classification: ['3', '02', '009'] })).expect(201);
    expect(res.body).toMatchObject({ providerUnitName: '蚌埠市人力资源和社会保障局', status: 'draft' });
  });

  test('nobody else creates: another unit’s admin, an operator, an auditor', async () => {
    const other = await create(rsAdmin, resourceBody(gaAdmin.unitId, { code: '301011/0001', classification: ['3', '01', '011'] })).expect(403);
    expect(other.body).toMatchObject({ code: 'NOT_YOUR_UNIT', field: 'body.providerUnitId' });
    for (const u of [gaOperator, auditor]) {
      const res = await create(u, resourceBody(u.unitId, { code: '301011/0001', classification: ['3', '01', '011'] })).expect(403);
      expect(res.body.code).toBe('ROLE_REQUIRED');
    }
    await api().get(path('301011/0001')).set(auth(office)).expect(404);
  });

  test('without a token nothing is answered', async () => {
    const res = await api().get('/api/v1/catalogue/resources').expect(401);
    expect(res.body.code).toBe('UNAUTHENTICATED');
    const forged = await api().get(path('101001/0001')).set({ authorization: 'Bearer not.a.token' }).expect(401);
    expect(forged.body.code).toBe('TOKEN_INVALID');
  });
});

describe('bad input names the field and saves nothing', () => {
  const cases: [string, (unitId: string) => Record<string, unknown>, number, string, string][] = [
    ['none without a legal basis', (u) => resourceBody(u, { sharing: { type: 'none' } }), 400, 'LEGAL_BASIS_REQUIRED', 'body.sharing.legalBasis'],
    ['conditional without conditions', (u) => resourceBody(u, { sharing: { type: 'conditional', conditions: '   ' } }), 400, 'CONDITIONS_REQUIRED', 'body.sharing.conditions'],
    [
      'an unshared item without a legal basis',
      (u) => resourceBody(u, { items: [...resourceBody(u).items.slice(0, 3), { key: 'legalPerson', label: '法定代表人', type: 'string', sharing: 'none' }] }),
      400,
      'LEGAL_BASIS_REQUIRED',
      'body.sharing.legalBasis',
    ],
    [
      'an item shared more loosely than its resource',
      (u) =>
        resourceBody(u, {
          sharing: { type: 'conditional', conditions: '仅限法定职责' },
          items: [
            { key: 'a', label: '甲', type: 'string' },
            { key: 'b', label: '乙', type: 'string', sharing: 'unconditional' },
          ],
        }),
      400,
      'ITEM_SHARING_LOOSER',
      'body.items[1].sharing',
    ],
    ['a code of the wrong shape', (u) => resourceBody(u, { code: '301009-0001' }), 400, 'INVALID_CODE', 'body.code'],
    ['a code that does not match the classification', (u) => resourceBody(u, { code: '301008/0001' }), 400, 'CODE_MISMATCH', 'body.code'],
    ['class 1 outside the five base databases', (u) => resourceBody(u, { code: '109001/0001', classification: ['1', '09', '001'] }), 400, 'INVALID_CLASSIFICATION', 'body.classification[1]'],
    [
      'an item key used twice',
      (u) => resourceBody(u, { items: [...resourceBody(u).items.slice(0, 2), { key: 'creditCode', label: '重复', type: 'string' }] }),
      400,
      'DUPLICATE_ITEM_KEY',
      'body.items[2].key',
    ],
    ['a query key that is not an item', (u) => resourceBody(u, { queryKeys: ['creditCode', 'nosuch'] }), 400, 'UNKNOWN_QUERY_KEY', 'body.queryKeys[1]'],
    ['a data type the platform does not know', (u) => resourceBody(u, { items: [{ key: 'a', label: '甲', type: 'blob' }] }), 400, 'VALIDATION_FAILED', 'body.items[0].type'],
    ['a format not in the reference list', (u) => resourceBody(u, { format: 'Excel' }), 400, 'VALIDATION_FAILED', 'body.format'],
    ['an unknown service method', (u) => resourceBody(u, { methods: ['ftp'] }), 400, 'VALIDATION_FAILED', 'body.methods[0]'],
    ['an unknown update cycle', (u) => resourceBody(u, { updateCycle: 'hourly' }), 400, 'VALIDATION_FAILED', 'body.updateCycle'],
    ['a code item without its code table', (u) => resourceBody(u, { items: [{ key: 'sex', label: '性别', type: 'code' }] }), 400, 'CODE_TABLE_REQUIRED', 'body.items[0].codeTable'],
    ['an unknown member', (u) => resourceBody(u, { items: [{ key: 'a', label: '甲', type: 'string', colour: 'red' }] }), 400, 'VALIDATION_FAILED', 'body.items[0].colour'],
    ['a related code that names no resource', (u) => resourceBody(u, { relatedCodes: ['101001/0001'] }), 400, 'UNKNOWN_RELATED_CODE', 'body.relatedCodes[0]'],
    [
      'a mask on an item that leaves in clear',
      (u) => resourceBody(u, { items: [{ key: 'a', label: '甲', type: 'string', sensitivity: 'internal', mask: 'full' }] }),
      400,
      'MASK_NOT_APPLICABLE',
      'body.items[0].mask',
    ],
    [
      'a mask keeping more than 32 characters',
      (u) => resourceBody(u, { items: [{ key: 'a', label: '甲', type: 'string', sensitivity: 'secret', mask: { keepStart: 40, keepEnd: 0 } }] }),
      400,
      'VALIDATION_FAILED',
      'body.items[0].mask',
    ],
    ['a scale on an item that is not a decimal', (u) => resourceBody(u, { items: [{ key: 'a', label: '甲', type: 'integer', scale: 2 }] }), 400, 'SCALE_NOT_APPLICABLE', 'body.items[0].scale'],
    ['a scale beyond 18 digits', (u) => resourceBody(u, { items: [{ key: 'a', label: '甲', type: 'decimal', scale: 19 }] }), 400, 'VALIDATION_FAILED', 'body.items[0].scale'],
  ];

  const count = async () => (await api().get('/api/v1/catalogue/resources?limit=200').set(auth(office)).expect(200)).body.items.length as number;

  test.each(cases)('%s', async (_what, body, status, code, field) => {
    const before = await count();
    const res = await create(gaAdmin, body(gaAdmin.unitId)).expect(status);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({ status, code, field });
    expect(await count()).toBe(before);
  });

  test('an unknown provider unit is refused after asking the gateway’s directory', async () => {
    const res = await create(office, resourceBody(randomUUID())).expect(400);
    expect(res.body).toMatchObject({ code: 'UNKNOWN_UNIT', field: 'body.providerUnitId' });
    await api().get(path('301009/0001')).set(auth(office)).expect(404);
  });

  test('a duplicate code is a conflict', async () => {
    await create(gaAdmin, resourceBody(gaAdmin.unitId, { code: '301012/0001', classification: ['3', '01', '012'] })).expect(201);
    const res = await create(office, resourceBody(gaAdmin.unitId, { code: '301012/0001', classification: ['3', '01', '012'], name: '另一个' })).expect(409);
    expect(res.body).toMatchObject({ code: 'CODE_EXISTS', field: 'body.code' });
    const kept = await api().get(path('301012/0001')).set(auth(office)).expect(200);
    expect(kept.body.name).toBe('社会组织登记信息');
  });
});

describe('lifecycle, permissions and versions', () => {
  const code = '301020/0001';
  const body = () => resourceBody(gaAdmin.unitId, { code, classification: ['3', '01', '020'] });

  beforeAll(async () => {
    await create(gaAdmin, body()).expect(201);
  });

  test('a draft is visible to its provider and the office only', async () => {
    await api().get(path(code)).set(auth(gaOperator)).expect(200);
    await api().get(path(code)).set(auth(auditor)).expect(200);
    const other = await api().get(path(code)).set(auth(rsAdmin)).expect(404);
    expect(other.body.code).toBe('NOT_FOUND');
    await api().get(path(code, '/versions')).set(auth(rsAdmin)).expect(404);
    await api().patch(path(code)).set(auth(rsAdmin)).send({ name: '改名' }).expect(404);
    await api().post(path(code, '/deprecate')).set(auth(rsAdmin)).expect(404);
  });

  test('the provider edits its draft; every change is a new version, a repeated one is not', async () => {
    const res = await api().patch(path(code)).set(auth(gaAdmin)).send({ name: '社会组织登记信息(草稿二)', updateCycle: 'weekly' }).expect(200);
    expect(res.body).toMatchObject({ version: 2, status: 'draft', name: '社会组织登记信息(草稿二)', updateCycle: 'weekly' });
    const again = await api().patch(path(code)).set(auth(gaAdmin)).send({ name: '社会组织登记信息(草稿二)' }).expect(200);
    expect(again.body.version).toBe(2);
  });

  test('a partial update is checked as a whole', async () => {
    const res = await api()
      .patch(path(code))
      .set(auth(gaAdmin))
      .send({ sharing: { type: 'none' } })
      .expect(400);
    expect(res.body).toMatchObject({ code: 'LEGAL_BASIS_REQUIRED', field: 'body.sharing.legalBasis' });
    const qk = await api()
      .patch(path(code))
      .set(auth(gaAdmin))
      .send({ queryKeys: ['orgName', 'nope'] })
      .expect(400);
    expect(qk.body).toMatchObject({ code: 'UNKNOWN_QUERY_KEY', field: 'body.queryKeys[1]' });
    const ok = await api()
      .patch(path(code))
      .set(auth(gaAdmin))
      .send({ queryKeys: ['orgName'] })
      .expect(200);
    expect(ok.body).toMatchObject({ version: 3, queryKeys: ['orgName'] });
    expect(ok.body.items.filter((i: { queryKey: boolean }) => i.queryKey).map((i: { key: string }) => i.key)).toEqual(['orgName']);
    const empty = await api().patch(path(code)).set(auth(gaAdmin)).send({}).expect(400);
    expect(empty.body.code).toBe('VALIDATION_FAILED');
    const fixed = await api().patch(path(code)).set(auth(gaAdmin)).send({ code: '301020/0002' }).expect(400);
    expect(fixed.body.field).toBe('body.code');
  });

  test('only the office moves a resource to another provider', async () => {
    const res = await api().patch(path(code)).set(auth(gaAdmin)).send({ providerUnitId: rsAdmin.unitId }).expect(403);
    expect(res.body).toMatchObject({ code: 'NOT_YOUR_UNIT', field: 'body.providerUnitId' });
    const unknown = await api().patch(path(code)).set(auth(office)).send({ providerUnitId: randomUUID() }).expect(400);
    expect(unknown.body).toMatchObject({ code: 'UNKNOWN_UNIT', field: 'body.providerUnitId' });
  });

  test('operators and auditors change nothing', async () => {
    const op = await api().patch(path(code)).set(auth(gaOperator)).send({ name: '操作员改名' }).expect(403);
    expect(op.body.code).toBe('NOT_YOUR_RESOURCE');
    await api().patch(path(code)).set(auth(auditor)).send({ name: '审计改名' }).expect(403);
  });

  test('only the office publishes; a draft cannot be deprecated', async () => {
    for (const u of [gaAdmin, rsAdmin, auditor]) {
      const res = await api().post(path(code, '/publish')).set(auth(u)).expect(403);
      expect(res.body.code).toBe('ROLE_REQUIRED');
    }
    const early = await api().post(path(code, '/deprecate')).set(auth(gaAdmin)).expect(409);
    expect(early.body.code).toBe('ILLEGAL_TRANSITION');
    const res = await api().post(path(code, '/publish')).set(auth(office)).expect(200);
    expect(res.body).toMatchObject({ status: 'published', version: 4 });
    expect(Date.parse(res.body.publishedAt)).toBeGreaterThan(Date.now() - 60_000);
    const twice = await api().post(path(code, '/publish')).set(auth(office)).expect(409);
    expect(twice.body.code).toBe('ILLEGAL_TRANSITION');
  });

  test('a published resource is everyone’s to read and only its provider’s and the office’s to change', async () => {
    await api().get(path(code)).set(auth(rsAdmin)).expect(200);
    const other = await api().patch(path(code)).set(auth(rsAdmin)).send({ name: '别人改名' }).expect(403);
    expect(other.body.code).toBe('NOT_YOUR_RESOURCE');
    await api().post(path(code, '/deprecate')).set(auth(rsAdmin)).expect(403);
    const own = await api().patch(path(code)).set(auth(gaAdmin)).send({ summary: '已发布后由提供方修改的摘要。' }).expect(200);
    expect(own.body).toMatchObject({ status: 'published', version: 5 });
    const byOffice = await api()
      .patch(path(code))
      .set(auth(office))
      .send({ methods: ['interface'] })
      .expect(200);
    expect(byOffice.body).toMatchObject({ version: 6, methods: ['interface'] });
  });

  test('the provider deprecates; a deprecated resource neither changes nor comes back', async () => {
    const res = await api().post(path(code, '/deprecate')).set(auth(gaAdmin)).expect(200);
    expect(res.body).toMatchObject({ status: 'deprecated', version: 7 });
    await api().get(path(code)).set(auth(rsAdmin)).expect(200);
    const edit = await api().patch(path(code)).set(auth(office)).send({ name: '再改' }).expect(409);
    expect(edit.body.code).toBe('RESOURCE_DEPRECATED');
    for (const action of ['/publish', '/deprecate']) {
      const again = await api().post(path(code, action)).set(auth(office)).expect(409);
      expect(again.body.code).toBe('ILLEGAL_TRANSITION');
    }
  });

  test('the versions say who changed what and when, and each reads back as it was', async () => {
    const res = await api().get(path(code, '/versions')).set(auth(rsAdmin)).expect(200);
    expect(res.body.items.map((v: { version: number; change: string; status: string }) => [v.version, v.change, v.status])).toEqual([
      [1, 'created', 'draft'],
      [2, 'updated', 'draft'],
      [3, 'updated', 'draft'],
      [4, 'published', 'published'],
      [5, 'updated', 'published'],
      [6, 'updated', 'published'],
      [7, 'deprecated', 'deprecated'],
    ]);
    expect(res.body.items[1].changedFields).toEqual(['name', 'updateCycle']);
    expect(res.body.items[2].changedFields).toEqual(['items', 'queryKeys']);
    expect(res.body.items[1].changedBy).toEqual({ kind: 'account', unitId: gaAdmin.unitId, accountId: gaAdmin.id });
    expect(res.body.items[5].changedBy.accountId).toBe(office.id);
    expect(Date.parse(res.body.items[0].changedAt)).toBeLessThanOrEqual(Date.parse(res.body.items[6].changedAt));

    const v1 = await api().get(path(code, '/versions/1')).set(auth(gaAdmin)).expect(200);
    expect(v1.body).toMatchObject({ version: 1, change: 'created', resource: { name: '社会组织登记信息', version: 1, status: 'draft', updateCycle: 'monthly' } });
    const v5 = await api().get(path(code, '/versions/5')).set(auth(gaAdmin)).expect(200);
    expect(v5.body.resource).toMatchObject({ summary: '已发布后由提供方修改的摘要。', methods: ['interface', 'data-call'], status: 'published' });
    await api().get(path(code, '/versions/99')).set(auth(gaAdmin)).expect(404);
  });

  test('every change reached Redis with the full resource view', async () => {
    const events = (await resourceEvents(platform)).filter((e) => e.subject === code);
    expect(events.map((e) => [e.type, (e.data as { version: number }).version])).toEqual([
      ['resource.created', 1],
      ['resource.updated', 2],
      ['resource.updated', 3],
      ['resource.published', 4],
      ['resource.updated', 5],
      ['resource.updated', 6],
      ['resource.deprecated', 7],
    ]);
    const published = events[3];
    expect(published.data).toMatchObject({ code, providerUnitId: gaAdmin.unitId, status: 'published', sharing: { type: 'unconditional' }, methods: ['interface', 'data-call'] });
    expect((published.data as { items: unknown[] }).items).toHaveLength(4);
    expect(published.actor).toEqual({ kind: 'account', unitId: office.unitId, accountId: office.id });
    expect(events[4].data).toMatchObject({ changed: ['summary'], status: 'published' });
    expect(events[5].data).toMatchObject({ changed: ['methods'], methods: ['interface'] });
    expect(events[6].data).toMatchObject({ status: 'deprecated', code });
    // Each is what the event catalogue declares, at its version: no consumer dead-letters it.
    expect(events.map((e) => [e.type, e.version, checkEvent(e)])).toEqual(events.map((e) => [e.type, 1, undefined]));
  });
});

describe('one data, one source', () => {
  const idItem = (authoritative: boolean) => ({
    key: 'idNumber',
    label: '公民身份号码',
    type: 'string',
    length: 18,
    queryKey: true,
    sensitivity: 'personal',
    element: '居民身份证号码',
    authoritative,
  });
  const population = () =>
    resourceBody(gaAdmin.unitId, {
      code: '101001/0001',
      classification: ['1', '01', '001'],
      name: '人口基本信息',
      items: [idItem(true), { key: 'name', label: '姓名', type: 'string' }],
      sharing: { type: 'conditional', conditions: '仅限法定职责,逐条核验' },
    });
  const social = (authoritative: boolean) =>
    resourceBody(rsAdmin.unitId, {
      code: '302001/0001',
      classification: ['3', '02', '001'],
      name: '社会保险参保信息',
      items: [{ key: 'status', label: '参保状态', type: 'string' }, idItem(authoritative)],
    });

  test('the first claim makes a resource the authoritative source of an element', async () => {
    const res = await create(gaAdmin, population()).expect(201);
    expect(res.body.items[0]).toMatchObject({ element: '居民身份证号码', authoritative: true });
    await api().post(path('101001/0001', '/publish')).set(auth(office)).expect(200);
  });

  test('a second authoritative claim is refused naming the existing source, and nothing of it is saved', async () => {
    const res = await create(rsAdmin, social(true)).expect(409);
    expect(res.body).toMatchObject({
      code: 'ELEMENT_CLAIMED',
      field: 'body.items[1].element',
      source: { code: '101001/0001', name: '人口基本信息', providerUnitName: '蚌埠市公安局', itemKey: 'idNumber' },
    });
    expect(res.body.detail).toContain('101001/0001');
    // The resource row was written before the claim was refused: the transaction took it back.
    await api().get(path('302001/0001')).set(auth(office)).expect(404);
  });

  test('other resources carry the element as copies', async () => {
    await create(rsAdmin, social(false)).expect(201);
    const res = await api().get('/api/v1/catalogue/elements').set(auth(office)).expect(200);
    const element = res.body.items.find((e: { name: string }) => e.name === '居民身份证号码');
    expect(element).toMatchObject({
      source: { code: '101001/0001', itemKey: 'idNumber', providerUnitId: gaAdmin.unitId, status: 'published' },
      copies: [{ code: '302001/0001', itemKey: 'idNumber' }],
    });
    // A draft of another unit stays hidden, in the element list too.
    const asGa = await api().get('/api/v1/catalogue/elements').set(auth(gaOperator)).expect(200);
    expect(asGa.body.items.find((e: { name: string }) => e.name === '居民身份证号码').copies).toEqual([]);
  });

  test('turning a copy into a second claim by update is refused too', async () => {
    const res = await api()
      .patch(path('302001/0001'))
      .set(auth(rsAdmin))
      .send({ items: [{ key: 'status', label: '参保状态', type: 'string' }, idItem(true)] })
      .expect(409);
    expect(res.body).toMatchObject({ code: 'ELEMENT_CLAIMED', field: 'body.items[1].element' });
    const kept = await api().get(path('302001/0001')).set(auth(rsAdmin)).expect(200);
    expect(kept.body).toMatchObject({ version: 1, items: [{}, { authoritative: false }] });
  });

  test('authoritative needs an element', async () => {
    const res = await create(
      rsAdmin,
      resourceBody(rsAdmin.unitId, { code: '302002/0001', classification: ['3', '02', '002'], items: [{ key: 'a', label: '甲', type: 'string', authoritative: true }] }),
    ).expect(400);
    expect(res.body).toMatchObject({ code: 'ELEMENT_REQUIRED', field: 'body.items[0].element' });
  });

  test('deprecating the source frees the element for a successor', async () => {
    await api().post(path('101001/0001', '/deprecate')).set(auth(office)).expect(200);
    const res = await api()
      .patch(path('302001/0001'))
      .set(auth(rsAdmin))
      .send({ items: [{ key: 'status', label: '参保状态', type: 'string' }, idItem(true)] })
      .expect(200);
    expect(res.body.items[1].authoritative).toBe(true);
    const list = await api().get('/api/v1/catalogue/elements').set(auth(office)).expect(200);
    expect(list.body.items.find((e: { name: string }) => e.name === '居民身份证号码').source.code).toBe('302001/0001');
  });

  test('racing claims on the same element: exactly one wins, whatever the timing', async () => {
    const claim = (n: number) =>
      create(
        office,
        resourceBody(rsAdmin.unitId, {
          code: `30204${n}/0001`,
          classification: ['3', '02', `04${n}`],
          items: [{ key: 'code', label: '统一社会信用代码', type: 'string', element: '统一社会信用代码', authoritative: true }],
        }),
      );
    const answers = await Promise.all([1, 2, 3, 4].map(claim));
    expect(answers.map((a) => a.status).sort()).toEqual([201, 409, 409, 409]);
    for (const a of answers.filter((x) => x.status === 409)) expect(a.body.code).toBe('ELEMENT_CLAIMED');
  });

  test('racing creations of one code: exactly one wins', async () => {
    const body = resourceBody(rsAdmin.unitId, { code: '302050/0001', classification: ['3', '02', '050'] });
    const answers = await Promise.all([1, 2, 3].map(() => create(office, body)));
    expect(answers.map((a) => a.status).sort()).toEqual([201, 409, 409]);
    for (const a of answers.filter((x) => x.status === 409)) expect(a.body).toMatchObject({ code: 'CODE_EXISTS', field: 'body.code' });
  });
});

describe('masks and scales (§6): declared per item, defaulted once by the catalogue, carried in the view and the events', () => {
  const code = '301030/0001';
  const items = [
    { key: 'idNumber', label: '公民身份号码', type: 'string', length: 18, queryKey: true, sensitivity: 'personal', element: '居民身份证号码' },
    { key: 'holder', label: '开户人', type: 'string', sensitivity: 'personal', element: '姓名' },
    { key: 'address', label: '住址', type: 'string', sensitivity: 'personal' },
    { key: 'account', label: '银行账号', type: 'string', sensitivity: 'secret' },
    { key: 'card', label: '卡号', type: 'string', sensitivity: 'secret', mask: { keepStart: 0, keepEnd: 4 } },
    // Looks like a name and an identity number, but declares no element: the default hides it whole, nothing is guessed.
    { key: 'spouseIdNumber', label: '配偶姓名及身份证号', type: 'string', sensitivity: 'personal' },
    { key: 'orgName', label: '单位名称', type: 'string' },
    { key: 'amount', label: '金额(元)', type: 'decimal', scale: 2 },
    { key: 'ratio', label: '比例', type: 'decimal' },
  ];

  test('personal and secret items get their declared mask or the default; public and internal ones none; decimals keep their scale', async () => {
    const res = await create(gaAdmin, resourceBody(gaAdmin.unitId, { code, classification: ['3', '01', '030'], items })).expect(201);
    const byKey = Object.fromEntries(res.body.items.map((i: { key: string }) => [i.key, i]));
    expect(byKey.idNumber.mask).toEqual({ keepStart: 6, keepEnd: 4 });
    expect(byKey.holder.mask).toEqual({ keepStart: 1, keepEnd: 0 });
    expect(byKey.address.mask).toBe('full');
    expect(byKey.account.mask).toBe('full'); // secret, nothing declared: hidden whole
    expect(byKey.card.mask).toEqual({ keepStart: 0, keepEnd: 4 });
    expect(byKey.spouseIdNumber.mask).toBe('full');
    expect(byKey.orgName.mask).toBeUndefined();
    expect(byKey.amount).toEqual({ key: 'amount', label: '金额(元)', type: 'decimal', required: false, queryKey: false, sensitivity: 'internal', scale: 2 });
    expect(byKey.ratio.scale).toBeUndefined();
    // Read back as stored.
    expect((await api().get(path(code)).set(auth(gaAdmin)).expect(200)).body.items).toEqual(res.body.items);
  });

  test('a declared mask can be changed by update; the published event carries masks and scales as the contracts declare them', async () => {
    const changed = items.map((i) => (i.key === 'address' ? { ...i, mask: { keepStart: 3, keepEnd: 0 } } : i));
    const res = await api().patch(path(code)).set(auth(gaAdmin)).send({ items: changed }).expect(200);
    expect(res.body.items.find((i: { key: string }) => i.key === 'address').mask).toEqual({ keepStart: 3, keepEnd: 0 });
    await api().post(path(code, '/publish')).set(auth(office)).expect(200);
    const published = (await resourceEvents(platform)).filter((e) => e.type === 'resource.published' && e.subject === code);
    expect(published).toHaveLength(1);
    expect(checkEvent(published[0])).toBeUndefined();
    const eventItems = (published[0].data as { items: { key: string; mask?: unknown; scale?: number }[] }).items;
    expect(Object.fromEntries(eventItems.map((i) => [i.key, [i.mask ?? null, i.scale ?? null]]))).toEqual({
      idNumber: [{ keepStart: 6, keepEnd: 4 }, null],
      holder: [{ keepStart: 1, keepEnd: 0 }, null],
      address: [{ keepStart: 3, keepEnd: 0 }, null],
      account: ['full', null],
      card: [{ keepStart: 0, keepEnd: 4 }, null],
      spouseIdNumber: ['full', null],
      orgName: [null, null],
      amount: [null, 2],
      ratio: [null, null],
    });
  });
});
