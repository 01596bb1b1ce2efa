import request from 'supertest';
import { Client } from 'pg';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { startPlatform, type TestPlatform } from '../helpers/platform';
import { runNode } from '../helpers/processes';

/**
 * Issue 16 (14): the first office administrator of a production platform, made by
 * `npm run bootstrap` on an empty (migrated) database: it can sign in, its creation is on the
 * record (an account.created event in the gateway's outbox), and a second run changes nothing.
 */
const bootstrap = (databaseUrl: string, args: string[], env: Record<string, string> = {}) => runNode('scripts/dist/bootstrap.js', args, { DATABASE_URL: databaseUrl, ...env });

describe('on an empty platform', () => {
  let platform: TestPlatform;
  beforeAll(async () => {
    platform = await startPlatform([]);
  });
  afterAll(async () => {
    await platform?.close();
  });

  test('creates the office unit and one office administrator with a password shown once; it signs in; its creation is on the record', async () => {
    const { code, out } = await bootstrap(platform.db.url, ['--username', 'city.admin']);
    expect(code).toBe(0);
    const password = /password \(shown once, change it after signing in\): (\S+)/.exec(out)?.[1];
    expect(password).toMatch(/^[A-Za-z0-9_-]{24}$/);
    const login = await request(platform.gatewayUrl).post('/api/v1/auth/login').send({ username: 'city.admin', password }).expect(200);
    const me = await request(platform.gatewayUrl).get('/api/v1/accounts').set('authorization', `Bearer ${login.body.access_token}`).expect(200);
    expect(me.body.items).toEqual([expect.objectContaining({ username: 'city.admin', roles: ['office_admin'] })]);
    const [event] = await platform.gateway.db.query<{ envelope: string }[]>(`SELECT envelope FROM outbox WHERE type = 'account.created'`);
    expect(JSON.parse(event.envelope)).toMatchObject({ type: 'account.created', actor: { kind: 'system' }, data: { username: 'city.admin', roles: ['office_admin'] } });
  });

  test('a second run (any username) changes nothing and says why', async () => {
    const again = await bootstrap(platform.db.url, ['--username', 'another.admin'], { GDX_BOOTSTRAP_PASSWORD: 'a long enough password' });
    expect(again.code).toBe(0);
    expect(again.out).toContain('nothing to do: an office administrator exists already (city.admin)');
    const n = await platform.gateway.db.query<{ n: number }[]>(`SELECT count(*)::int AS n FROM account WHERE 'office_admin' = ANY(roles)`);
    expect(n[0].n).toBe(1);
  });
});

describe('refusals', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  test('without a username: usage, exit 2; a short password or a malformed username: exit 1 with the reason, nothing created', async () => {
    expect((await bootstrap(db.url, [])).code).toBe(2);
    const short = await bootstrap(db.url, ['--username', 'city.admin'], { GDX_BOOTSTRAP_PASSWORD: 'short' });
    expect({ code: short.code, says: short.out.includes('at least 12 characters') }).toEqual({ code: 1, says: true });
    const bad = await bootstrap(db.url, ['--username', 'Bad Name']);
    expect({ code: bad.code, says: bad.out.includes('the username must be') }).toEqual({ code: 1, says: true });
    const c = new Client({ connectionString: db.url });
    await c.connect();
    const n = await c.query(`SELECT count(*)::int AS n FROM gateway.account`);
    await c.end();
    expect(n.rows[0].n).toBe(0);
  });
});
