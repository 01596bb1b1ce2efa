import request from 'supertest';
import { referenceData } from '@gdx/codes';
import { seedCatalogue } from '@gdx/catalogue';
import { ResourceSearchService } from '@gdx/catalogue/testing';
import { startPlatform, type TestPlatform } from '../helpers/platform';
import { addUnit, addUser, type TestUser } from '../helpers/gateway';
import { auth, path, resourceBody, resourceEvents } from './catalogue-fixtures';

let platform: TestPlatform;
let office: TestUser;
let gaAdmin: TestUser;
let rsAdmin: TestUser;
const unitIds: Record<string, string> = {};
const api = () => request(platform.gatewayUrl);
const ref = referenceData();
const search = (u: TestUser, query: Record<string, string | number>) => api().get('/api/v1/catalogue/resources').query(query).set(auth(u)).expect(200);
const codes = (res: { body: { items: { code: string }[] } }) => res.body.items.map((r) => r.code);

beforeAll(async () => {
  platform = await startPlatform(['catalogue']);
  for (const u of ref.units) unitIds[u.key] = (await addUnit(platform.gateway, u.key)).id;
  office = await addUser(platform.gateway, 'OFFICE', ['office_admin']);
  gaAdmin = await addUser(platform.gateway, 'GA', ['unit_admin']);
  rsAdmin = await addUser(platform.gateway, 'RS', ['unit_admin']);
  await seedCatalogue(platform.services.catalogue!.db, unitIds);
  // One draft of GA's, to check that search shows it only to GA and the office.
  await api()
    .post('/api/v1/catalogue/resources')
    .set(auth(gaAdmin))
    .send(resourceBody(gaAdmin.unitId, { code: '301030/0001', classification: ['3', '01', '030'], name: '流动人口居住登记信息', summary: '流动人口在本市居住登记的基本情况。', updateCycle: 'daily' }))
    .expect(201);
});
afterAll(async () => {
  await platform?.close();
});

describe('seeding the reference catalogue', () => {
  test('loads the 14 reference resources as published, once', async () => {
    const res = await search(office, { status: 'published', limit: 200 });
    expect(codes(res).sort()).toEqual(ref.resources.map((r) => r.code as string).sort());
    const population = res.body.items.find((r: { code: string }) => r.code === '101001/0001');
    expect(population).toMatchObject({
      status: 'published',
      version: 1,
      providerUnitId: unitIds.GA,
      providerUnitName: '蚌埠市公安局',
      sharing: { type: 'conditional' },
      queryKeys: ['idNumber', 'regionCode'],
    });
    expect(population.publishedAt).not.toBeNull();
    expect(await seedCatalogue(platform.services.catalogue!.db, unitIds)).toEqual([]);
  });

  test('the first reference resource naming an element is its source; later ones are copies', async () => {
    const res = await api().get('/api/v1/catalogue/elements').set(auth(rsAdmin)).expect(200);
    expect(res.body.items).toEqual([
      { name: '居民身份证号码', source: expect.objectContaining({ code: '101001/0001', itemKey: 'idNumber' }), copies: [] },
      { name: '统一社会信用代码', source: expect.objectContaining({ code: '102001/0001', itemKey: 'creditCode' }), copies: [{ code: '105001/0001', itemKey: 'creditCode' }] },
    ]);
  });

  test('each seeded resource is announced as resource.published through the outbox', async () => {
    const events = (await resourceEvents(platform)).filter((e) => e.type === 'resource.published');
    expect(events).toHaveLength(14);
    expect(events[0]).toMatchObject({
      actor: { kind: 'system' },
      subject: '101001/0001',
      data: { code: '101001/0001', status: 'published', version: 1, providerUnitId: unitIds.GA, methods: ['interface', 'customization'] },
    });
  });
});

describe('search and browse', () => {
  test('Chinese substring search on name and summary', async () => {
    expect(codes(await search(rsAdmin, { q: '人口' }))).toEqual(['101001/0001']);
    // 市场主体 occurs in summaries only.
    expect(codes(await search(rsAdmin, { q: '市场主体' }))).toEqual(['102001/0001', '105001/0001']);
    expect(codes(await search(rsAdmin, { q: '纳税信用', class: '3' }))).toEqual(['305001/0001']);
    expect(codes(await search(office, { q: '人口' }))).toEqual(['101001/0001', '301030/0001']);
    expect(codes(await search(rsAdmin, { q: '%' }))).toEqual([]);
    expect(codes(await search(rsAdmin, { q: ' 人口 ' }))).toEqual(['101001/0001']);
  });

  test('filters: provider, class, base database, sharing type, method, update cycle, status', async () => {
    expect(codes(await search(rsAdmin, { provider: unitIds.GA }))).toEqual(['101001/0001', '307001/0001']);
    expect(codes(await search(rsAdmin, { class: '1' }))).toEqual(['101001/0001', '102001/0001', '103001/0001', '104001/0001', '105001/0001', '105002/0001']);
    expect(codes(await search(rsAdmin, { baseDatabase: '105' }))).toEqual(['105001/0001', '105002/0001']);
    expect(codes(await search(rsAdmin, { sharingType: 'none' }))).toEqual(['307001/0001']);
    expect(codes(await search(rsAdmin, { method: 'data-call', class: '3' }))).toEqual(['305001/0001', '306001/0001']);
    expect(codes(await search(rsAdmin, { updateCycle: 'quarterly' }))).toEqual(['103001/0001']);
    expect(codes(await search(rsAdmin, { status: 'draft' }))).toEqual([]);
    expect(codes(await search(gaAdmin, { status: 'draft' }))).toEqual(['301030/0001']);
    expect(codes(await search(office, { status: 'draft' }))).toEqual(['301030/0001']);
    const bad = await api().get('/api/v1/catalogue/resources').query({ updateCycle: 'hourly' }).set(auth(rsAdmin)).expect(400);
    expect(bad.body).toMatchObject({ code: 'VALIDATION_FAILED', field: 'querystring.updateCycle' });
  });

  test('sorting by code, name and dates, either way', async () => {
    const all = codes(await search(rsAdmin, { limit: 200 }));
    expect(codes(await search(rsAdmin, { sort: '-code', limit: 200 }))).toEqual([...all].reverse());
    const byName = (await search(rsAdmin, { sort: 'name', limit: 200 })).body.items.map((r: { name: string }) => r.name);
    expect(byName).toEqual([...byName].sort((a: string, b: string) => (Buffer.from(a) < Buffer.from(b) ? -1 : 1)));
    const byPublished = (await search(office, { sort: '-publishedAt', limit: 200 })).body.items;
    expect(byPublished[byPublished.length - 1].status).toBe('draft');
  });

  test('cursor pagination walks every resource exactly once and stays stable while resources are added', async () => {
    for (const sort of ['code', '-updatedAt', 'name', 'publishedAt']) {
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const res = await search(office, { sort, limit: 4, ...(cursor ? { cursor } : {}) });
        seen.push(...codes(res));
        cursor = res.body.nextCursor;
        if (pages++ === 0 && sort === 'code') {
          // Added behind the cursor: the walk neither repeats nor skips anything.
          await api()
            .post('/api/v1/catalogue/resources')
            .set(auth(office))
            .send(resourceBody(unitIds.MZ, { code: '101001/0000', classification: ['1', '01', '001'] }))
            .expect(201);
        }
      } while (cursor);
      expect(new Set(seen).size).toBe(seen.length);
      expect(seen.length).toBeGreaterThanOrEqual(15);
    }
    const first = await search(office, { limit: 2 });
    const wrongSort = await api().get('/api/v1/catalogue/resources').query({ sort: 'name', cursor: first.body.nextCursor }).set(auth(office)).expect(400);
    expect(wrongSort.body).toMatchObject({ code: 'INVALID_CURSOR', field: 'querystring.cursor' });
    await api().get('/api/v1/catalogue/resources').query({ cursor: 'garbage' }).set(auth(office)).expect(400);
  });

  test('the name and summary search is indexed: trigrams, and bigrams for two-character terms', async () => {
    const db = platform.services.catalogue!.db;
    const indexes = await db.query("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'catalogue' AND indexname LIKE 'resource_search_%' ORDER BY indexname");
    expect(indexes.map((i: { indexname: string }) => i.indexname)).toEqual(['resource_search_bigram', 'resource_search_trgm']);
    expect(indexes[1].indexdef).toMatch(/USING gin .*gin_trgm_ops/);
    expect(indexes[0].indexdef).toMatch(/USING gin .*search_bigrams/);
    // The search's own SQL, with scans that do not use these indexes forbidden (fourteen rows would always be scanned).
    const plan = async (q: string) => {
      const [sql, params] = new ResourceSearchService(db).query({ kind: 'account', subject: office.id, unitId: office.unitId, roles: ['office_admin'] }, { q, sort: 'code' }).getQueryAndParameters();
      const rows = await db.transaction(async (m) => {
        await m.query('SET LOCAL enable_seqscan = off');
        await m.query('SET LOCAL enable_indexscan = off');
        return m.query(`EXPLAIN ${sql}`, params);
      });
      return rows.map((r: { 'QUERY PLAN': string }) => r['QUERY PLAN']).join('\n');
    };
    expect(await plan('基本信息')).toContain('Bitmap Index Scan on resource_search_trgm');
    expect(await plan('婚姻')).toContain('Bitmap Index Scan on resource_search_bigram');
    expect(await db.query("SELECT search_bigrams('人口A' || chr(31) || 'b') AS b")).toEqual([{ b: ['人口', '口a'] }]);
  });

  test('two-character terms find what ILIKE finds, case-insensitively', async () => {
    expect(codes(await search(rsAdmin, { q: '婚姻' }))).toEqual(['301001/0001']);
    expect(codes(await search(rsAdmin, { q: '证照' }))).toEqual(['105001/0001']);
    expect(codes(await search(rsAdmin, { q: '(a' }))).toEqual(['305001/0001']);
    expect(codes(await search(rsAdmin, { q: '(A' }))).toEqual(['305001/0001']);
  });
});

describe('DCAT export', () => {
  test('the published catalogue as a dcat:Catalog in JSON-LD, with EU frequencies', async () => {
    const res = await api().get('/api/v1/catalogue/dcat').set(auth(rsAdmin)).expect(200);
    expect(res.headers['content-type']).toMatch(/^application\/ld\+json/);
    const doc = JSON.parse(res.text);
    expect(doc['@type']).toBe('dcat:Catalog');
    expect(doc['@context']).toMatchObject({ dcat: 'http://www.w3.org/ns/dcat#', dct: 'http://purl.org/dc/terms/' });
    const byCode = Object.fromEntries(doc['dcat:dataset'].map((d: { 'dct:identifier': string }) => [d['dct:identifier'], d]));
    expect(Object.keys(byCode).sort()).toEqual(ref.resources.map((r) => r.code as string).sort());
    const population = byCode['101001/0001'];
    expect(population).toMatchObject({
      '@type': 'dcat:Dataset',
      'dct:title': { '@value': '人口基本信息', '@language': 'zh' },
      'dct:publisher': { 'foaf:name': { '@value': '蚌埠市公安局' }, 'dct:identifier': '11340300284135459M' },
      'dct:accrualPeriodicity': { '@id': 'http://publications.europa.eu/resource/authority/frequency/DAILY' },
      'dct:accessRights': { '@id': 'http://publications.europa.eu/resource/authority/access-right/RESTRICTED' },
    });
    expect(population['@id']).toMatch(/\/api\/v1\/catalogue\/resources\/101001%2F0001$/);
    expect(population['dcat:distribution']).toHaveLength(2);
    const freq = (code: string) => byCode[code]['dct:accrualPeriodicity']['@id'].split('/').pop();
    expect([freq('103001/0001'), freq('104001/0001'), freq('105001/0001'), freq('304001/0001'), freq('306001/0001')]).toEqual(['QUARTERLY', 'ANNUAL', 'UPDATE_CONT', 'MONTHLY', 'WEEKLY']);
    expect(byCode['102001/0001']['dct:accessRights']['@id']).toMatch(/PUBLIC$/);
    expect(byCode['307001/0001']['dct:accessRights']['@id']).toMatch(/NON_PUBLIC$/);
  });

  test('large catalogues are harvested page by page, following hydra:next', async () => {
    const seen: string[] = [];
    let next: string | undefined = '/api/v1/catalogue/dcat?limit=5';
    while (next) {
      const doc = JSON.parse((await api().get(next).set(auth(rsAdmin)).expect(200)).text);
      expect(doc['hydra:view']['@type']).toBe('hydra:PartialCollectionView');
      expect(doc['dcat:dataset'].length).toBeLessThanOrEqual(5);
      seen.push(...doc['dcat:dataset'].map((d: { 'dct:identifier': string }) => d['dct:identifier']));
      const link: string | undefined = doc['hydra:view']['hydra:next'];
      next = link ? link.slice(link.indexOf('/api/v1/')) : undefined;
    }
    expect(seen).toEqual(ref.resources.map((r) => r.code as string).sort());
    const bad = await api().get('/api/v1/catalogue/dcat?after=nonsense').set(auth(rsAdmin)).expect(400);
    expect(bad.body.field).toBe('querystring.after');
  });

  test('open=true exports only what is open to the public, for open-data portals', async () => {
    const doc = JSON.parse((await api().get('/api/v1/catalogue/dcat?open=true&limit=2').set(auth(rsAdmin)).expect(200)).text);
    const open = ref.resources
      .filter((r) => (r.open as { open: boolean }).open)
      .map((r) => r.code as string)
      .sort();
    expect(doc['dcat:dataset'].map((d: { 'dct:identifier': string }) => d['dct:identifier'])).toEqual(open.slice(0, 2));
    expect(doc['dcat:dataset'].every((d: { 'dct:accessRights': { '@id': string } }) => d['dct:accessRights']['@id'].endsWith('/PUBLIC'))).toBe(true);
    expect(doc['hydra:view']['hydra:next']).toContain('open=true');
  });

  test('drafts and deprecated resources are not exported', async () => {
    await api().post(path('306001/0001', '/deprecate')).set(auth(office)).expect(200);
    const doc = JSON.parse((await api().get('/api/v1/catalogue/dcat').set(auth(office)).expect(200)).text);
    const ids = doc['dcat:dataset'].map((d: { 'dct:identifier': string }) => d['dct:identifier']);
    expect(ids).not.toContain('306001/0001');
    expect(ids).not.toContain('301030/0001');
  });
});
