import request from 'supertest';
import { referenceData } from '@gdx/codes';
import type { SeededCredentials } from '@gdx/gateway';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { deleteKeys, testPrefix } from '../helpers/redis';
import { seedUnits, startProcesses, type RunningPlatform } from '../helpers/processes';
import { eventually } from '../helpers/wait';

/**
 * The platform as it runs: five processes wired by environment variables. A provider
 * catalogues and loads data, a consumer files an unconditional request and gets its
 * grant, its business system queries through the gateway, and the audit service has
 * every step on the record, all seen only through the gateway's public API.
 */
let db: TestDatabase;
let platform: RunningPlatform;
let creds: SeededCredentials;
const prefix = testPrefix();
const units: Record<string, string> = {};
const CODE = '102001/0001';
const enc = encodeURIComponent;
let gw: () => ReturnType<typeof request>;

async function login(username: string): Promise<string> {
  const password = creds.accounts.find((a) => a.username === username)!.password;
  return (await gw().post('/api/v1/auth/login').send({ username, password }).expect(200)).body.access_token;
}

beforeAll(async () => {
  db = await createTestDatabase();
  const seeded = await seedUnits(db.url, ['OFFICE', 'SCJG', 'RS', 'GA']);
  creds = seeded.creds;
  Object.assign(units, seeded.units);
  platform = await startProcesses(db.url, prefix);
  gw = () => request(platform.urls.gateway);
});
afterAll(async () => {
  const codes = await platform?.stop();
  await db?.drop();
  await deleteKeys(prefix);
  // Every service stopped cleanly on SIGTERM.
  expect(codes).toEqual([0, 0, 0, 0, 0]);
});

test('catalogue → data → request → grant → query → audit, through the gateway', async () => {
  const office = await login('office.admin');
  const auditor = await login('office.auditor');
  const scjg = await login('scjg.admin');
  const rs = await login('rs.admin');
  const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

  // The provider catalogues its resource; the office publishes it.
  const ref = referenceData().resources.find((r) => r.code === CODE) as Record<string, unknown> & { items: Record<string, unknown>[] };
  await gw()
    .post('/api/v1/catalogue/resources')
    .set(bearer(scjg))
    .send({
      code: CODE,
      classification: ref.classification,
      name: ref.name,
      summary: ref.summary,
      providerUnitId: units.SCJG,
      format: ref.format,
      items: ref.items.map(({ element: _e, ...i }) => i),
      sharing: ref.sharing,
      methods: ref.methods,
      updateCycle: ref.updateCycle,
      open: ref.open,
    })
    .expect(201);
  await gw()
    .post(`/api/v1/catalogue/resources/${enc(CODE)}/publish`)
    .set(bearer(office))
    .send({})
    .expect(200);

  // data-query builds the table from the published event; the provider loads a batch.
  const rows = referenceData()
    .units.slice(0, 3)
    .map((u) => ({ creditCode: u.creditCode, entityName: u.name, legalRepresentative: '张三', registrationStatus: '存续', regionCode: '340300' }));
  const batch = await eventually(async () => {
    const r = await gw()
      .post(`/api/v1/data/${enc(CODE)}/batches`)
      .set(bearer(scjg))
      .set('content-type', 'application/x-ndjson')
      .send(rows.map((x) => JSON.stringify(x)).join('\n'));
    return r.status < 300 ? r : r.status === 404 || r.status === 409 ? undefined : Promise.reject(new Error(`${r.status} ${JSON.stringify(r.body)}`));
  });
  expect(batch.status).toBeLessThan(300);

  // The consumer files the record form and accepts the commitment: the grant is issued at once.
  const commitment = (await gw().get('/api/v1/commitment').set(bearer(rs)).expect(200)).body;
  const filed = await gw()
    .post('/api/v1/requests')
    .set(bearer(rs))
    .send({
      resourceCode: CODE,
      items: ['creditCode', 'entityName', 'legalRepresentative', 'registrationStatus'],
      serviceMode: 'interface',
      purpose: '社会保险登记核验',
      dutyBasis: '《社会保险法》第五十七条',
      expectedVolume: 100,
      validFrom: new Date(Date.now() - 60_000).toISOString(),
      validTo: new Date(Date.now() + 30 * 86_400_000).toISOString(),
    })
    .expect(201);
  const granted = await gw()
    .post(`/api/v1/requests/${filed.body.id}/filing`)
    .set(bearer(rs))
    .send({
      form: { applicantUnit: '蚌埠市人力资源和社会保障局', contactName: '李四', contactPhone: '0552-2345678', securityMeasures: '专人专岗' },
      commitment: { version: commitment.version, text: commitment.text },
    })
    .expect(200);
  expect(granted.body.status).toBe('granted');

  // The consumer's business system: client credentials, then the interface query.
  const client = creds.clients.find((c) => c.unit === 'RS')!;
  const token = (await gw().post('/api/v1/auth/token').type('form').send({ grant_type: 'client_credentials', client_id: client.clientId, client_secret: client.clientSecret }).expect(200)).body
    .access_token;
  const wanted = referenceData().units[1];
  const answer = await eventually(async () => {
    const r = await gw()
      .post(`/api/v1/query/${enc(CODE)}`)
      .set(bearer(token))
      .send({ where: { creditCode: wanted.creditCode } });
    return r.status === 200 ? r : undefined;
  });
  expect(answer.body.items).toHaveLength(1);
  expect(answer.body.items[0]).toMatchObject({ creditCode: wanted.creditCode, entityName: wanted.name });
  expect(answer.body.items[0].legalRepresentative).not.toBe('张三'); // personal: masked
  expect(answer.body.items[0].address).toBeUndefined(); // not granted
  const notGranted = await gw()
    .post(`/api/v1/query/${enc(CODE)}`)
    .set(bearer(token))
    .send({ where: { creditCode: wanted.creditCode }, items: ['address'] })
    .expect(403);
  expect(notGranted.body.code).toBe('ITEM_NOT_GRANTED');

  // The audit trail has the whole story, and the auditor reads it through the gateway.
  for (const action of ['auth.token_issued', 'resource.published', 'data.updated', 'grant.issued', 'query.executed', 'query.denied']) {
    await eventually(async () => {
      const r = await gw().get(`/api/v1/audit/records?action=${action}`).set(bearer(auditor));
      return r.status === 200 && r.body.items.length > 0;
    });
  }
  const q = await gw().get(`/api/v1/audit/records?requestId=${answer.headers['x-request-id']}`).set(bearer(auditor)).expect(200);
  expect(q.body.items).toHaveLength(1);
  expect(q.body.items[0]).toMatchObject({ type: 'query.executed' });
  const verified = await gw().get('/api/v1/audit/verify').set(bearer(auditor)).expect(200);
  expect(verified.body.ok).toBe(true);
});
