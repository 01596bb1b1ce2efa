import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { Client } from 'pg';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { testPrefix } from '../helpers/redis';
import { startOwnRedis, type OwnRedis } from '../helpers/redis-server';
import { seedUnits, startProcesses, type RunningPlatform } from '../helpers/processes';
import { eventually } from '../helpers/wait';

/**
 * Issue 16 (2), the probe that found the loss: with the audit consumer stalled (SIGSTOP), Redis
 * (no persistence) is killed and started empty. Every answered interface-query call and every
 * account creation must still reach the audit trail: the records were in PostgreSQL (outboxes)
 * before the answers left, and the relays publish again what no consumer had acknowledged.
 */
let db: TestDatabase;
let own: OwnRedis;
let platform: RunningPlatform;
let pg: Client;
const prefix = testPrefix();
let clientToken: string;
let adminToken: string;
let auditorToken: string;
let rsUnit: string;

beforeAll(async () => {
  db = await createTestDatabase();
  const { creds, units } = await seedUnits(db.url, ['OFFICE', 'GA', 'RS']);
  rsUnit = units.RS;
  own = await startOwnRedis();
  platform = await startProcesses(db.url, prefix, ['gateway', 'request-approval', 'audit'], { REDIS_URL: own.url, OUTBOX_CHECK_MS: '500' });
  const gw = platform.urls.gateway;
  const client = creds.clients.find((c) => c.unit === 'RS')!;
  clientToken = (await request(gw).post('/api/v1/auth/token').send({ grant_type: 'client_credentials', client_id: client.clientId, client_secret: client.clientSecret }).expect(200)).body.access_token;
  const admin = creds.accounts.find((a) => a.unit === 'RS' && a.roles.includes('unit_admin'))!;
  adminToken = (await request(gw).post('/api/v1/auth/login').send({ username: admin.username, password: admin.password }).expect(200)).body.access_token;
  const auditor = creds.accounts.find((a) => a.unit === 'OFFICE' && a.roles.includes('office_auditor'))!;
  auditorToken = (await request(gw).post('/api/v1/auth/login').send({ username: auditor.username, password: auditor.password }).expect(200)).body.access_token;
  pg = new Client({ connectionString: db.url });
  await pg.connect();
  // The gateway answers queries once it holds the grants (request-approval may start after it is ready).
  await eventually(async () => (await askQuery(`warm-${randomUUID()}`)).status !== 503, 30_000, 'the gateway to load the grants');
}, 60_000);
afterAll(async () => {
  await pg?.end();
  const codes = await platform?.stop();
  await own?.stop();
  await db?.drop();
  expect(codes?.every((c) => c === 0)).toBe(true);
});

const askQuery = (id: string) =>
  request(platform.urls.gateway)
    .post(`/api/v1/query/${encodeURIComponent('101001/0001')}`)
    .set('authorization', `Bearer ${clientToken}`)
    .set('x-request-id', id)
    .send({ where: { idNumber: '11010519491231002X' } });

test('Redis killed and started empty while the audit service is stalled: 200 of 200 query calls and 20 of 20 account creations reach the trail', async () => {
  const gw = platform.urls.gateway;
  platform.signal('audit', 'SIGSTOP');
  const queryIds: string[] = [];
  for (let i = 0; i < 200; i++) {
    const id = `probe-q-${randomUUID()}`;
    // No grant: refused at the gateway, and answered (4xx) only once the refusal is on the record.
    const res = await askQuery(id);
    expect({ status: res.status, code: res.body.code }).toEqual({ status: 403, code: 'NO_GRANT' });
    queryIds.push(id);
  }
  const accountIds: string[] = [];
  for (let i = 0; i < 20; i++) {
    const res = await request(gw)
      .post('/api/v1/accounts')
      .set('authorization', `Bearer ${adminToken}`)
      .send({ unitId: rsUnit, username: `probe.${i}.${randomUUID().slice(0, 8)}`, displayName: '探针', roles: ['unit_operator'], password: 'a long enough password' })
      .expect(201);
    accountIds.push(res.body.id);
  }
  // Everything is in Redis (the outboxes published it) and nothing has been consumed by the stalled audit service.
  await eventually(async () => (await pg.query('SELECT count(*)::int AS n FROM gateway.outbox WHERE published_at IS NULL')).rows[0].n === 0, 15_000, 'the gateway outbox to be published');

  await own.kill();
  await own.restart();
  platform.signal('audit', 'SIGCONT');

  const onTrail = async () => {
    const q = await pg.query(`SELECT count(DISTINCT request_id)::int AS n FROM audit.audit_record WHERE request_id = ANY($1) AND type = 'query.denied'`, [queryIds]);
    const a = await pg.query(`SELECT count(DISTINCT subject)::int AS n FROM audit.audit_record WHERE subject = ANY($1) AND type = 'account.created'`, [accountIds]);
    return { queries: q.rows[0].n as number, accounts: a.rows[0].n as number };
  };
  await eventually(
    async () => {
      const n = await onTrail();
      return n.queries === 200 && n.accounts === 20;
    },
    60_000,
    'every probe call on the trail',
  ).catch(async (err: unknown) => {
    throw new Error(`${String(err)}: ${JSON.stringify(await onTrail())}`);
  });
  expect(await onTrail()).toEqual({ queries: 200, accounts: 20 });
  // Once each: the replay and any redelivery are deduped by event id.
  const twice = await pg.query(`SELECT request_id FROM audit.audit_record WHERE request_id = ANY($1) GROUP BY request_id HAVING count(*) > 1`, [queryIds]);
  expect(twice.rows).toEqual([]);
  // The trail's chains and checkpoints verify after all this.
  const verify = await request(gw).get('/api/v1/audit/verify').set('authorization', `Bearer ${auditorToken}`).expect(200);
  expect(verify.body).toMatchObject({ ok: true, firstProblem: null });
}, 120_000);
