import { createServer } from 'node:net';
import request from 'supertest';
import { Redis } from 'ioredis';
import type { App } from '@gdx/service-kit';
import { streamKey } from '@gdx/events';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { deleteKeys, REDIS_URL, testPrefix } from '../helpers/redis';
import { addUnit, addUser, startGateway, type TestUser } from '../helpers/gateway';
import { watchTrail } from '../helpers/trail';

let db: TestDatabase;
let app: App;
let office: TestUser;
let auditor: TestUser;
let gaAdmin: TestUser;
let gaOperator: TestUser;
let rsAdmin: TestUser;
const prefix = testPrefix();
const trail = watchTrail();
const api = () => request(app.server);
const auth = (u: TestUser) => ({ authorization: `Bearer ${u.token}` });

beforeAll(async () => {
  db = await createTestDatabase();
  // The catalogue upstream on a port that was just free and is closed again, not the default 8081:
  // the 503 test must not meet a platform that happens to run on this machine.
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const closedPort = (probe.address() as { port: number }).port;
  await new Promise((r) => probe.close(r));
  app = await startGateway(db.url, prefix, { lockoutThreshold: 3, lockoutMinutes: 5, catalogueUrl: `http://127.0.0.1:${closedPort}` }, trail.onCall);
  office = await addUser(app, 'OFFICE', ['office_admin']);
  auditor = await addUser(app, 'OFFICE', ['office_auditor']);
  gaAdmin = await addUser(app, 'GA', ['unit_admin']);
  gaOperator = await addUser(app, 'GA', ['unit_operator']);
  rsAdmin = await addUser(app, 'RS', ['unit_admin']);
});
afterAll(async () => {
  await trail.check(prefix);
  await app?.close();
  await db?.drop();
  await deleteKeys(prefix);
  trail.assertComplete();
});

describe('units', () => {
  const newUnit = { key: 'MZ', name: '蚌埠市民政局', creditCode: '113403005684713668', regionCode: '340300', kind: 'provider', contactName: '李四', contactPhone: '0552-7654321' };

  test('the office creates a unit; the credit code check character is verified', async () => {
    const bad = await api()
      .post('/api/v1/units')
      .set(auth(office))
      .send({ ...newUnit, creditCode: '113403005684713669' })
      .expect(400);
    expect(bad.body).toMatchObject({ code: 'INVALID_CREDIT_CODE', field: 'body.creditCode', status: 400 });
    const res = await api().post('/api/v1/units').set(auth(office)).send(newUnit).expect(201);
    expect(res.body).toMatchObject({ key: 'MZ', contactName: '李四', status: 'active' });
    const dup = await api().post('/api/v1/units').set(auth(office)).send(newUnit).expect(409);
    expect(dup.body.code).toBe('UNIT_EXISTS');
  });

  test('bad input answers problem+json naming the field', async () => {
    const res = await api()
      .post('/api/v1/units')
      .set(auth(office))
      .send({ ...newUnit, key: 'x', regionCode: 'abc' })
      .expect(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body.code).toBe('VALIDATION_FAILED');
    expect(res.body.field).toMatch(/^body\./);
    const malformed = await api().post('/api/v1/units').set(auth(office)).set('content-type', 'application/json').send('{"key":').expect(400);
    expect(malformed.body.code).toBe('MALFORMED_BODY');
  });

  test('nobody but the office creates units', async () => {
    for (const u of [gaAdmin, gaOperator, auditor]) {
      const res = await api()
        .post('/api/v1/units')
        .set(auth(u))
        .send({ ...newUnit, key: 'ZZ' });
      expect(res.status).toBe(403);
    }
  });

  test('every caller reads the directory, contact details only of its own unit', async () => {
    const res = await api().get('/api/v1/units').set(auth(gaOperator)).expect(200);
    const ga = res.body.items.find((u: { key: string }) => u.key === 'GA');
    const rs = res.body.items.find((u: { key: string }) => u.key === 'RS');
    expect(ga.contactName).toBe('张三');
    expect(rs.contactName).toBeUndefined();
    const asOffice = await api().get(`/api/v1/units/${rs.id}`).set(auth(office)).expect(200);
    expect(asOffice.body.contactName).toBe('张三');
  });

  test('a unit admin changes its own contact person, nothing else and no other unit', async () => {
    const own = await api().patch(`/api/v1/units/${gaAdmin.unitId}`).set(auth(gaAdmin)).send({ contactName: '王五' }).expect(200);
    expect(own.body.contactName).toBe('王五');
    const name = await api().patch(`/api/v1/units/${gaAdmin.unitId}`).set(auth(gaAdmin)).send({ name: '改名' }).expect(403);
    expect(name.body).toMatchObject({ code: 'FIELD_NOT_EDITABLE', field: 'body.name' });
    await api().patch(`/api/v1/units/${rsAdmin.unitId}`).set(auth(gaAdmin)).send({ contactName: '王五' }).expect(403);
    await api().patch(`/api/v1/units/${gaAdmin.unitId}`).set(auth(gaOperator)).send({ contactName: '王五' }).expect(403);
  });
});

describe('accounts', () => {
  test('a unit admin creates accounts for its own unit only, and no office roles', async () => {
    const created = await api()
      .post('/api/v1/accounts')
      .set(auth(gaAdmin))
      .send({ unitId: gaAdmin.unitId, username: 'ga.clerk', displayName: '经办人', roles: ['unit_operator'], password: 'a long enough password' })
      .expect(201);
    expect(created.body).toMatchObject({ username: 'ga.clerk', roles: ['unit_operator'], locked: false });
    expect(created.body.passwordHash).toBeUndefined();
    const other = await api()
      .post('/api/v1/accounts')
      .set(auth(gaAdmin))
      .send({ unitId: rsAdmin.unitId, username: 'rs.mole', displayName: 'x', roles: ['unit_operator'], password: 'a long enough password' })
      .expect(403);
    expect(other.body.code).toBe('NOT_YOUR_UNIT');
    const officeRole = await api()
      .post('/api/v1/accounts')
      .set(auth(gaAdmin))
      .send({ unitId: gaAdmin.unitId, username: 'ga.boss', displayName: 'x', roles: ['office_admin'], password: 'a long enough password' })
      .expect(400);
    expect(officeRole.body.code).toBe('ROLE_NOT_ALLOWED');
    const dup = await api()
      .post('/api/v1/accounts')
      .set(auth(gaAdmin))
      .send({ unitId: gaAdmin.unitId, username: 'ga.clerk', displayName: 'x', roles: ['unit_operator'], password: 'a long enough password' })
      .expect(409);
    expect(dup.body.code).toBe('USERNAME_TAKEN');
    const short = await api()
      .post('/api/v1/accounts')
      .set(auth(gaAdmin))
      .send({ unitId: gaAdmin.unitId, username: 'ga.short', displayName: 'x', roles: ['unit_operator'], password: 'short' })
      .expect(400);
    expect(short.body.field).toBe('body.password');
  });

  test('a unit admin sees only its own unit’s accounts; another unit’s account is 404', async () => {
    const list = await api().get('/api/v1/accounts').set(auth(gaAdmin)).expect(200);
    expect(list.body.items.every((a: { unitId: string }) => a.unitId === gaAdmin.unitId)).toBe(true);
    const foreign = await api().get(`/api/v1/accounts?unitId=${rsAdmin.unitId}`).set(auth(gaAdmin)).expect(200);
    expect(foreign.body.items).toEqual([]);
    await api().get(`/api/v1/accounts/${rsAdmin.id}`).set(auth(gaAdmin)).expect(404);
    await api().patch(`/api/v1/accounts/${rsAdmin.id}`).set(auth(gaAdmin)).send({ status: 'disabled' }).expect(404);
    await api().put(`/api/v1/accounts/${rsAdmin.id}/password`).set(auth(gaAdmin)).send({ password: 'hijacked password!' }).expect(404);
    await api().get('/api/v1/accounts').set(auth(gaOperator)).expect(403);
    const all = await api().get('/api/v1/accounts').set(auth(office)).expect(200);
    expect(new Set(all.body.items.map((a: { unitId: string }) => a.unitId)).size).toBeGreaterThanOrEqual(3);
  });

  test('an account reads itself and changes its own password only with the current one', async () => {
    await api().get(`/api/v1/accounts/${gaOperator.id}`).set(auth(gaOperator)).expect(200);
    const wrong = await api().put(`/api/v1/accounts/${gaOperator.id}/password`).set(auth(gaOperator)).send({ password: 'brand new password', currentPassword: 'nope' }).expect(403);
    expect(wrong.body.code).toBe('WRONG_PASSWORD');
    await api().put(`/api/v1/accounts/${gaOperator.id}/password`).set(auth(gaOperator)).send({ password: 'brand new password', currentPassword: gaOperator.password }).expect(204);
    const again = await api().post('/api/v1/auth/login').send({ username: gaOperator.username, password: 'brand new password' }).expect(200);
    // The token issued before the change is revoked (tests/gateway/sessions.test.ts): later tests use the new one.
    gaOperator = { ...gaOperator, password: 'brand new password', token: again.body.access_token as string };
  });

  test('repeated failures lock the account; the admin unlocks it', async () => {
    const victim = await addUser(app, 'GA', ['unit_operator']);
    for (let i = 0; i < 3; i++) {
      const r = await api().post('/api/v1/auth/login').send({ username: victim.username, password: 'wrong password' }).expect(401);
      expect(r.body.code).toBe('INVALID_CREDENTIALS');
    }
    // Locked: even the right password is refused, with the answer an unknown name gets.
    const locked = await api().post('/api/v1/auth/login').send({ username: victim.username, password: victim.password }).expect(401);
    expect(locked.body.code).toBe('INVALID_CREDENTIALS');
    const view = await api().get(`/api/v1/accounts/${victim.id}`).set(auth(gaAdmin)).expect(200);
    expect(view.body.locked).toBe(true);
    await api().post(`/api/v1/accounts/${victim.id}/unlock`).set(auth(rsAdmin)).expect(404);
    const unlocked = await api().post(`/api/v1/accounts/${victim.id}/unlock`).set(auth(gaAdmin)).expect(200);
    expect(unlocked.body.locked).toBe(false);
    await api().post('/api/v1/auth/login').send({ username: victim.username, password: victim.password }).expect(200);
  });

  test('an unknown user and a wrong password look the same', async () => {
    const a = await api().post('/api/v1/auth/login').send({ username: 'nobody.here', password: 'whatever it is' }).expect(401);
    const b = await api().post('/api/v1/auth/login').send({ username: gaAdmin.username, password: 'whatever it is' }).expect(401);
    expect(a.body.code).toBe(b.body.code);
    expect(a.body.detail).toBe(b.body.detail);
  });

  test('past the lockout threshold a real account answers exactly like an unknown name (status, code, body, headers); the trail still says locked', async () => {
    const victim = await addUser(app, 'GA', ['unit_operator']);
    const ghost = `ghost.${Math.random().toString(36).slice(2, 8)}`;
    const attempt = (username: string) => api().post('/api/v1/auth/login').send({ username, password: 'guess number n' });
    for (let i = 0; i < 5; i++) {
      const real = await attempt(victim.username);
      const unknown = await attempt(ghost);
      const shape = (r: request.Response) => ({
        status: r.status,
        type: r.headers['content-type'],
        retryAfter: r.headers['retry-after'],
        body: { ...r.body, instance: undefined, requestId: undefined },
      });
      expect(shape(real)).toEqual(shape(unknown));
      expect(real.body.code).toBe('INVALID_CREDENTIALS');
    }
    await app.relay.drain();
    const r = new Redis(REDIS_URL);
    const entries = await r.xrange(streamKey(prefix, 'auth'), '-', '+');
    r.disconnect();
    const reasons = entries.map(([, f]) => JSON.parse(f[1]) as { type: string; subject: string; data: { reason?: string } }).filter((e) => e.subject === victim.id);
    expect(reasons.map((e) => e.type)).toContain('auth.locked_out');
    expect(reasons.filter((e) => e.data.reason === 'locked').length).toBeGreaterThan(0);
  });

  test('a disabled account cannot sign in', async () => {
    const u = await addUser(app, 'GA', ['unit_operator']);
    await api().patch(`/api/v1/accounts/${u.id}`).set(auth(gaAdmin)).send({ status: 'disabled' }).expect(200);
    await api().post('/api/v1/auth/login').send({ username: u.username, password: u.password }).expect(401);
  });
});

describe('business-system clients and the client credentials grant', () => {
  let clientId: string;
  let secret: string;
  let id: string;

  test('a unit admin registers a client; the secret is shown once and works', async () => {
    const res = await api().post('/api/v1/clients').set(auth(gaAdmin)).send({ unitId: gaAdmin.unitId, name: '户籍核验系统' }).expect(201);
    ({ clientId, clientSecret: secret, id } = res.body);
    expect(secret.length).toBeGreaterThanOrEqual(40);
    const read = await api().get(`/api/v1/clients/${id}`).set(auth(gaAdmin)).expect(200);
    expect(read.body.clientSecret).toBeUndefined();
    const form = await api().post('/api/v1/auth/token').type('form').send({ grant_type: 'client_credentials', client_id: clientId, client_secret: secret }).expect(200);
    expect(form.body).toMatchObject({ token_type: 'Bearer', expires_in: 3600 });
    expect(form.headers['cache-control']).toBe('no-store');
    const json = await api().post('/api/v1/auth/token').send({ grant_type: 'client_credentials', client_id: clientId, client_secret: secret }).expect(200);
    const basic = await api().post('/api/v1/auth/token').type('form').auth(clientId, secret).send({ grant_type: 'client_credentials' }).expect(200);
    for (const t of [form, json, basic]) await api().get('/api/v1/units').set('authorization', `Bearer ${t.body.access_token}`).expect(200);
  });

  test('the token endpoint answers RFC 6749 errors', async () => {
    const cases: [object, number, string][] = [
      [{}, 400, 'invalid_request'],
      [{ grant_type: 'password', username: 'a', password: 'b' }, 400, 'unsupported_grant_type'],
      [{ grant_type: 'client_credentials', client_id: clientId }, 400, 'invalid_request'],
      [{ grant_type: 'client_credentials', client_id: clientId, client_secret: 'wrong' }, 401, 'invalid_client'],
      [{ grant_type: 'client_credentials', client_id: 'nobody', client_secret: 'wrong' }, 401, 'invalid_client'],
    ];
    for (const [body, status, error] of cases) {
      const res = await api().post('/api/v1/auth/token').type('form').send(body);
      expect([res.status, res.body.error]).toEqual([status, error]);
    }
    const basic = await api().post('/api/v1/auth/token').type('form').auth(clientId, 'wrong').send({ grant_type: 'client_credentials' }).expect(401);
    expect(basic.headers['www-authenticate']).toMatch(/^Basic/);
  });

  test('a malformed body or Basic header answers RFC 6749 errors, never 500', async () => {
    for (const [type, body] of [
      ['application/json', '{"grant_type":'],
      ['application/json', '"client_credentials"'],
      ['application/x-www-form-urlencoded', 'grant_type=client_credentials&client_id=%zz'],
      ['text/plain', 'grant_type=client_credentials'],
    ]) {
      const res = await api().post('/api/v1/auth/token').set('content-type', type).send(body);
      expect([res.status, res.body.error, res.headers['content-type']]).toEqual([400, 'invalid_request', expect.stringMatching(/^application\/json/)]);
    }
    for (const header of ['Basic %E0%A4%A:%zz', `Basic ${Buffer.from('%E0%A4%A:%zz').toString('base64')}`, 'Basic !!!not base64', `Basic ${Buffer.from('no colon').toString('base64')}`, 'Basic ']) {
      const res = await api().post('/api/v1/auth/token').type('form').set('authorization', header).send({ grant_type: 'client_credentials' });
      expect([res.status, res.body.error]).toEqual([401, 'invalid_client']);
      expect(res.headers['www-authenticate']).toMatch(/^Basic/);
    }
  });

  test('clients are managed by their own unit only', async () => {
    await api().get(`/api/v1/clients/${id}`).set(auth(rsAdmin)).expect(404);
    await api().post(`/api/v1/clients/${id}/secret`).set(auth(rsAdmin)).expect(404);
    await api().post(`/api/v1/clients/${id}/revoke`).set(auth(gaOperator)).expect(404);
    await api().post('/api/v1/clients').set(auth(rsAdmin)).send({ unitId: gaAdmin.unitId, name: 'x' }).expect(403);
    const list = await api().get('/api/v1/clients').set(auth(rsAdmin)).expect(200);
    expect(list.body.items.find((c: { id: string }) => c.id === id)).toBeUndefined();
    const officeList = await api().get('/api/v1/clients').set(auth(auditor)).expect(200);
    expect(officeList.body.items.find((c: { id: string }) => c.id === id)).toBeDefined();
  });

  test('a rotated secret replaces the old one; a revoked client gets no tokens', async () => {
    const rotated = await api().post(`/api/v1/clients/${id}/secret`).set(auth(gaAdmin)).expect(200);
    await api().post('/api/v1/auth/token').send({ grant_type: 'client_credentials', client_id: clientId, client_secret: secret }).expect(401);
    await api().post('/api/v1/auth/token').send({ grant_type: 'client_credentials', client_id: clientId, client_secret: rotated.body.clientSecret }).expect(200);
    await api().post(`/api/v1/clients/${id}/revoke`).set(auth(gaAdmin)).expect(200);
    await api().post('/api/v1/auth/token').send({ grant_type: 'client_credentials', client_id: clientId, client_secret: rotated.body.clientSecret }).expect(401);
  });

  test('authentication events are published through the outbox', async () => {
    await app.relay.drain();
    const r = new Redis(REDIS_URL);
    const entries = await r.xrange(streamKey(prefix, 'auth'), '-', '+');
    r.disconnect();
    const types = entries.map(([, f]) => JSON.parse(f[1]).type as string);
    for (const t of ['auth.login_succeeded', 'auth.login_failed', 'auth.locked_out', 'auth.token_issued', 'auth.token_refused']) expect(types).toContain(t);
    const raw = entries.map(([, f]) => f[1]).join('\n');
    expect(raw).not.toContain('correct horse battery');
  });
});

describe('operations', () => {
  test('health, metrics, JWKS and the OpenAPI document need no token', async () => {
    await api().get('/health/live').expect(200);
    const ready = await api().get('/health/ready').expect(200);
    // Redis durability is advice (this machine's Redis may keep nothing on disk): never a reason to be unready.
    expect(ready.body.checks).toEqual({ postgres: 'ok', redis: 'ok', migrations: 'ok', 'redis-durability': expect.stringMatching(/^(ok|warning: .+)$/) as unknown });
    const metrics = await api().get('/metrics').expect(200);
    expect(metrics.text).toContain('http_request_duration_seconds_bucket');
    const jwks = await api().get('/.well-known/jwks.json').expect(200);
    expect(jwks.body.keys[0]).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA' });
    expect(jwks.body.keys[0].d).toBeUndefined();
    const doc = await api().get('/openapi.json').expect(200);
    expect(doc.body.paths['/api/v1/auth/token']).toBeDefined();
    await api().get('/docs/').expect(200);
  });

  test('a route that does not exist is a problem, an unknown upstream a 503 without details', async () => {
    const missing = await api().get('/api/v1/nothing').set(auth(office)).expect(404);
    expect(missing.body.code).toBe('ROUTE_NOT_FOUND');
    const down = await api().get('/api/v1/catalogue/resources').set(auth(office)).expect(503);
    expect(down.body.code).toBe('UPSTREAM_UNAVAILABLE');
    expect(JSON.stringify(down.body)).not.toMatch(/ECONNREFUSED|127\.0\.0\.1/);
  });

  test('the request id given by the caller is echoed; a malformed one is replaced', async () => {
    const a = await api().get('/health/live').set('x-request-id', 'abc-123');
    expect(a.headers['x-request-id']).toBe('abc-123');
    const b = await api().get('/health/live').set('x-request-id', 'bad id with spaces');
    expect(b.headers['x-request-id']).not.toBe('bad id with spaces');
  });

  test('a body over the limit is refused with 413', async () => {
    await addUnit(app, 'GA');
    const res = await api()
      .post('/api/v1/units')
      .set(auth(office))
      .send({ name: 'x'.repeat(2_000_000) })
      .expect(413);
    expect(res.body.code).toBe('BODY_TOO_LARGE');
  });
});
