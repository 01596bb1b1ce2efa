import request from 'supertest';
import { personOf } from '@gdx/data-query/testing';
import { startPlatform, type TestPlatform } from '../helpers/platform';
import { addUser, type TestUser } from '../helpers/gateway';
import { enc, EventWriter, starterResource } from '../data-query/support';

/**
 * Issue 11 item 13: client scopes, `data:submit` first (§2). A unit admin gives its own unit's
 * business system the scope; its tokens carry `scope`; data-query's batch route takes such a
 * client token for the resources its unit provides, and nothing more.
 */
let platform: TestPlatform;
let events: EventWriter;
let ga: TestUser;
let gaOperator: TestUser;
let lzh: TestUser;
let rs: TestUser;
const CODE = '101001/0001';
const url = `/api/v1/data/${enc(CODE)}/batches`;

const gw = () => request(platform.gatewayUrl);
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const person = personOf(7);
const batch = JSON.stringify({ idNumber: person.idNumber, name: '测试', sex: person.sex, birthDate: person.birthDate, regionCode: person.regionCode });
const submit = (token: string) => gw().post(url).set(bearer(token)).set('content-type', 'application/x-ndjson').send(batch);

async function client(admin: TestUser, scopes?: string[]): Promise<{ id: string; clientId: string; secret: string }> {
  const res = await gw()
    .post('/api/v1/clients')
    .set(bearer(admin.token))
    .send({ unitId: admin.unitId, name: '业务系统', ...(scopes ? { scopes } : {}) })
    .expect(201);
  expect(res.body.scopes).toEqual(scopes ?? []);
  return { id: res.body.id as string, clientId: res.body.clientId as string, secret: res.body.clientSecret as string };
}

function tokenOf(c: { clientId: string; secret: string }, scope?: string): request.Test {
  return gw()
    .post('/api/v1/auth/token')
    .type('form')
    .send({ grant_type: 'client_credentials', client_id: c.clientId, client_secret: c.secret, ...(scope !== undefined ? { scope } : {}) });
}

beforeAll(async () => {
  platform = await startPlatform(['data-query']);
  events = new EventWriter(platform);
  ga = await addUser(platform.gateway, 'GA', ['unit_admin']);
  gaOperator = await addUser(platform.gateway, 'GA', ['unit_operator']);
  lzh = await addUser(platform.gateway, 'LZH', ['unit_admin']);
  rs = await addUser(platform.gateway, 'RS', ['unit_admin']);
  await events.resource(starterResource(CODE, ga.unitId));
});
afterAll(async () => {
  events?.close();
  await platform?.close();
});

test('a client given data:submit by its unit admin gets a token with that scope and submits a batch for its own unit’s resource', async () => {
  const c = await client(ga, ['data:submit']);
  const t = await tokenOf(c).expect(200);
  expect(t.body.scope).toBe('data:submit');
  const res = await submit(t.body.access_token as string).expect(200);
  expect(res.body).toMatchObject({ resourceCode: CODE, rows: 1, upserted: 1 });
});

test('without the scope a client is still refused (403 ROLE_REQUIRED), and asking for a scope it was not given is invalid_scope', async () => {
  const c = await client(ga);
  const t = await tokenOf(c).expect(200);
  expect(t.body.scope).toBeUndefined();
  const res = await submit(t.body.access_token as string).expect(403);
  expect(res.body.code).toBe('ROLE_REQUIRED');
  const asked = await tokenOf(c, 'data:submit').expect(400);
  expect(asked.body.error).toBe('invalid_scope');
});

test('a client of another unit with data:submit is refused for a resource its unit does not provide (403 NOT_PROVIDER)', async () => {
  const c = await client(lzh, ['data:submit']);
  const t = await tokenOf(c).expect(200);
  const res = await submit(t.body.access_token as string).expect(403);
  expect(res.body.code).toBe('NOT_PROVIDER');
});

test('the unit admin sets scopes later; taking the scope away revokes the tokens that carry it', async () => {
  const c = await client(ga);
  const patched = await gw()
    .patch(`/api/v1/clients/${c.id}`)
    .set(bearer(ga.token))
    .send({ scopes: ['data:submit'] })
    .expect(200);
  expect(patched.body.scopes).toEqual(['data:submit']);
  const t = await tokenOf(c).expect(200);
  await submit(t.body.access_token as string).expect(200);
  await gw().patch(`/api/v1/clients/${c.id}`).set(bearer(ga.token)).send({ scopes: [] }).expect(200);
  const deadline = Date.now() + 1_000;
  let last = await submit(t.body.access_token as string);
  while (last.status !== 401 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
    last = await submit(t.body.access_token as string);
  }
  expect([last.status, last.body.code]).toEqual([401, 'TOKEN_REVOKED']);
  const fresh = await tokenOf(c).expect(200);
  expect((await submit(fresh.body.access_token as string).expect(403)).body.code).toBe('ROLE_REQUIRED');
});

test('nobody but its own unit’s admin gives a client scopes: another unit’s admin gets 404 (403 on create), an operator 404, unknown scopes 400', async () => {
  const c = await client(ga);
  await gw()
    .patch(`/api/v1/clients/${c.id}`)
    .set(bearer(rs.token))
    .send({ scopes: ['data:submit'] })
    .expect(404);
  await gw()
    .patch(`/api/v1/clients/${c.id}`)
    .set(bearer(gaOperator.token))
    .send({ scopes: ['data:submit'] })
    .expect(404);
  const created = await gw()
    .post('/api/v1/clients')
    .set(bearer(rs.token))
    .send({ unitId: ga.unitId, name: 'x', scopes: ['data:submit'] })
    .expect(403);
  expect(created.body.code).toBe('NOT_YOUR_UNIT');
  const bad = await gw()
    .patch(`/api/v1/clients/${c.id}`)
    .set(bearer(ga.token))
    .send({ scopes: ['data:everything'] })
    .expect(400);
  expect(bad.body.field).toMatch(/scopes/);
  const read = await gw().get(`/api/v1/clients/${c.id}`).set(bearer(ga.token)).expect(200);
  expect(read.body.scopes).toEqual([]);
  const t = await tokenOf(c).expect(200);
  expect((await submit(t.body.access_token as string).expect(403)).body.code).toBe('ROLE_REQUIRED');
});
