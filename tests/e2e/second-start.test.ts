import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { resetNotice, seedAll } from '@gdx/scripts';
import type { App } from '@gdx/service-kit';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { startGateway } from '../helpers/gateway';
import { deleteKeys, testPrefix } from '../helpers/redis';
import { watchTrail } from '../helpers/trail';

/** Issue 11 item 21: a second start on a database that already holds the demo data must still let a newcomer in. */
describe('npm start on a database that already holds the demo data', () => {
  let db: TestDatabase;
  let gateway: App | undefined;
  const prefix = testPrefix();
  const trail = watchTrail();
  const dir = mkdtempSync(join(tmpdir(), 'gdx-seed-'));
  const file = join(dir, '.gdx', 'demo-credentials.json');

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await trail.check(prefix);
    await gateway?.close();
    await db?.drop();
    await deleteKeys(prefix);
    rmSync(dir, { recursive: true, force: true });
    trail.assertComplete();
  });

  it('resets the demo secrets when they are not on this machine, says so, and the new ones sign in', async () => {
    const first = await seedAll(db.url, { credentialsFile: file });
    expect(first.reset).toEqual([]);
    expect(first.accounts.length).toBeGreaterThan(0);
    expect(first.clients.length).toBeGreaterThan(0);

    // A rerun with the file in place keeps every secret.
    const again = await seedAll(db.url, { credentialsFile: file });
    expect(again.reset).toEqual([]);
    expect(again.accounts).toEqual(first.accounts);
    expect(again.clients).toEqual(first.clients);

    // A second clone (or a deleted .gdx/): the data is there, its secrets are not.
    rmSync(join(dir, '.gdx'), { recursive: true, force: true });
    const second = await seedAll(db.url, { credentialsFile: file });
    expect(second.accounts.map((a) => a.username).sort()).toEqual(first.accounts.map((a) => a.username).sort());
    expect(second.clients.map((c) => c.clientId).sort()).toEqual(first.clients.map((c) => c.clientId).sort());
    expect([...second.reset].sort()).toEqual([...first.accounts.map((a) => a.username), ...first.clients.map((c) => c.clientId)].sort());
    for (const a of second.accounts) expect(a.password).not.toBe(first.accounts.find((f) => f.username === a.username)!.password);
    expect(resetNotice(second.reset, file)).toContain('office.admin');
    expect(existsSync(file)).toBe(true);
    const written = JSON.parse(readFileSync(file, 'utf8')) as { accounts: unknown[]; clients: unknown[] };
    expect(written.accounts).toHaveLength(first.accounts.length);
    expect(written.clients).toHaveLength(first.clients.length);

    gateway = await startGateway(db.url, prefix, {}, trail.onCall);
    const gw = () => request(gateway!.server);
    const office = second.accounts.find((a) => a.username === 'office.admin')!;
    const login = await gw().post('/api/v1/auth/login').send({ username: office.username, password: office.password });
    expect(login.status).toBe(200);
    expect(typeof login.body.access_token).toBe('string');
    const stale = await gw()
      .post('/api/v1/auth/login')
      .send({ username: office.username, password: first.accounts.find((a) => a.username === 'office.admin')!.password });
    expect(stale.status).toBe(401);
    const client = second.clients.find((c) => c.clientId === 'rs-demo') ?? second.clients[0];
    const token = await gw().post('/api/v1/auth/token').send({ grant_type: 'client_credentials', client_id: client.clientId, client_secret: client.clientSecret });
    expect(token.status).toBe(200);
    expect(typeof token.body.access_token).toBe('string');

    // A third start with the new file keeps the new secrets.
    const third = await seedAll(db.url, { credentialsFile: file });
    expect(third.reset).toEqual([]);
    expect(third.accounts).toEqual(second.accounts);
  });
});
