import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { Type } from '@sinclair/typebox';
import { JwksClient } from '@gdx/auth';
import { loadConfig, CommonConfig } from '@gdx/config';
import { createBaseApp, type App } from '@gdx/service-kit';
import { gatewayDataSource } from '@gdx/gateway';
import { writeNewKey } from '@gdx/gateway/testing';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { deleteKeys, REDIS_URL, testPrefix } from '../helpers/redis';
import { addUser, startGateway } from '../helpers/gateway';
import { freePort } from '../helpers/platform';
import { watchTrail } from '../helpers/trail';

let db: TestDatabase;
let gateway: App;
let service: App;
let jwksBase: string;
const prefix = testPrefix();
const trail = watchTrail();
const keysDir = mkdtempSync(join(tmpdir(), 'gdx-keys-'));
const kidOf = (t: string) => JSON.parse(Buffer.from(t.split('.')[0], 'base64url').toString()).kid as string;

beforeAll(async () => {
  db = await createTestDatabase();
  const port = await freePort();
  gateway = await startGateway(db.url, prefix, { keysDir, keysReloadMs: 500, keysActivationDelayMs: 2500 }, trail.onCall);
  await gateway.listen({ host: '127.0.0.1', port });
  jwksBase = `http://127.0.0.1:${port}`;
  // A service behind the gateway that knows nothing but the JWKS address.
  const config = loadConfig({ ...CommonConfig, port: Type.Integer({ default: 0 }) }, {}, { databaseUrl: db.url, redisUrl: REDIS_URL, streamPrefix: prefix, migrateOnStart: false, logLevel: 'silent' });
  service = await createBaseApp({
    name: 'probe',
    config,
    logger: false,
    dataSource: gatewayDataSource(db.url, 2),
    keyFor: new JwksClient(`http://127.0.0.1:${port}/.well-known/jwks.json`, 1000).resolver(),
    openapi: { title: 'probe', description: 'probe', tags: [] },
  });
  service.get('/whoami', async (req) => req.principal);
  await service.ready();
});
afterAll(async () => {
  await trail.check(prefix);
  await service?.close();
  await gateway?.close();
  await db?.drop();
  await deleteKeys(prefix);
  trail.assertComplete();
});

test('a service verifies gateway tokens itself against the JWKS', async () => {
  const user = await addUser(gateway, 'GA', ['unit_operator']);
  const res = await request(service.server).get('/whoami').set('authorization', `Bearer ${user.token}`).expect(200);
  expect(res.body).toMatchObject({ kind: 'account', subject: user.id, unitId: user.unitId, roles: ['unit_operator'] });
  await request(service.server).get('/whoami').expect(401);
  await request(service.server).get('/whoami').set('authorization', `Bearer ${user.token}x`).expect(401);
});

test('keys rotate without downtime: the new key is published first, signs later, old tokens stay valid', async () => {
  const before = await addUser(gateway, 'GA', ['unit_operator']);
  await request(service.server).get('/whoami').set('authorization', `Bearer ${before.token}`).expect(200);
  const newKid = writeNewKey(keysDir);
  // Published within a reload, yet not signing until the activation delay has passed.
  await new Promise((r) => setTimeout(r, 1200));
  const jwks = await request(gateway.server).get('/.well-known/jwks.json').expect(200);
  expect(jwks.body.keys.map((k: { kid: string }) => k.kid)).toContain(newKid);
  const during = await addUser(gateway, 'GA', ['unit_operator']);
  expect(kidOf(during.token)).toBe(kidOf(before.token));
  await new Promise((r) => setTimeout(r, 1600));
  const after = await addUser(gateway, 'GA', ['unit_operator']);
  expect(kidOf(after.token)).toBe(newKid);
  for (const t of [before, during, after]) await request(service.server).get('/whoami').set('authorization', `Bearer ${t.token}`).expect(200);
});

test('requests that arrive together before the first JWKS fetch are all verified', async () => {
  const user = await addUser(gateway, 'RS', ['unit_operator']);
  const fresh = await createBaseApp({
    name: 'probe2',
    config: loadConfig({ ...CommonConfig }, {}, { databaseUrl: db.url, redisUrl: REDIS_URL, streamPrefix: prefix, migrateOnStart: false, logLevel: 'silent' }),
    logger: false,
    dataSource: gatewayDataSource(db.url, 2),
    keyFor: new JwksClient(`${jwksBase}/.well-known/jwks.json`, 60_000).resolver(),
    openapi: { title: 'probe', description: 'probe', tags: [] },
  });
  fresh.get('/whoami', async (req) => req.principal);
  await fresh.ready();
  try {
    const statuses = await Promise.all(
      Array.from({ length: 10 }, () =>
        request(fresh.server)
          .get('/whoami')
          .set('authorization', `Bearer ${user.token}`)
          .then((r) => r.status),
      ),
    );
    expect(statuses).toEqual(Array(10).fill(200));
  } finally {
    await fresh.close();
  }
});
