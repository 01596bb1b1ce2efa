import request from 'supertest';
import { createHash } from 'node:crypto';
import { personOf } from '@gdx/data-query/testing';
import { createEvent } from '@gdx/contracts';
import { Redis } from 'ioredis';
import { streamKey } from '@gdx/events';
import { seedUnits, startProcesses, type RunningPlatform } from '../helpers/processes';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { deleteKeys, REDIS_URL, testPrefix } from '../helpers/redis';
import { grantView } from '../helpers/grants';
import { starterResource } from '../data-query/support';
import { eventually } from '../helpers/wait';

/**
 * Issue 13: a worker killed with SIGKILL in the middle of a compare job. Its ticket is taken over
 * by another replica's worker from the last committed chunk, and the job still succeeds with
 * exact counts: every record answered once, in order, as the records say it must be.
 */
const CODE = '101001/0001';
const ROWS = 5_000;
const RECORDS = 60_000;
let db: TestDatabase;
let platform: RunningPlatform;
const prefix = testPrefix();
let consumerToken: string;
let providerToken: string;
const redis = new Redis(REDIS_URL);

/** Record j asks about person j % ROWS: every 10th an unknown person, every 3rd with a wrong name. */
function recordOf(j: number): { idNumber: string; name: string; expected: string } {
  if (j % 10 === 7) return { idNumber: personOf(ROWS + j).idNumber, name: 'x', expected: 'not_found' };
  const i = j % ROWS;
  return j % 3 === 0 ? { idNumber: personOf(i).idNumber, name: 'wrong', expected: 'mismatch' } : { idNumber: personOf(i).idNumber, name: `P${i}`, expected: 'match' };
}

async function publish(type: 'resource.published' | 'grant.issued', subject: string, data: object): Promise<void> {
  const envelope = createEvent(type, { actor: { kind: 'system' }, subject, data } as never);
  await redis.xadd(streamKey(prefix, type.split('.')[0]), '*', 'event', JSON.stringify(envelope));
}

beforeAll(async () => {
  db = await createTestDatabase();
  const { creds, units } = await seedUnits(db.url, ['OFFICE', 'GA', 'LZH']);
  platform = await startProcesses(db.url, prefix, ['gateway', 'data-query'], {
    JOB_CHUNK_RECORDS: '500',
    JOB_CLAIM_IDLE_MS: '1000',
    JOB_SWEEP_MS: '200',
    JOB_STALL_MS: '20000',
  });
  const login = async (unit: string) => {
    const a = creds.accounts.find((x) => x.unit === unit && x.roles.includes('unit_admin'))!;
    return (await request(platform.urls.gateway).post('/api/v1/auth/login').send({ username: a.username, password: a.password }).expect(200)).body.access_token as string;
  };
  providerToken = await login('GA');
  consumerToken = await login('LZH');
  await publish('resource.published', CODE, starterResource(CODE, units.GA));
  await publish(
    'grant.issued',
    'g',
    grantView({ consumerUnitId: units.LZH, providerUnitId: units.GA, resourceCode: CODE, items: ['idNumber', 'name', 'sex'], modes: ['customization'], dailyQuota: 1_000_000 }),
  );
  const rows = Array.from({ length: ROWS }, (_, i) => {
    const p = personOf(i);
    return JSON.stringify({ idNumber: p.idNumber, name: `P${i}`, sex: p.sex, birthDate: p.birthDate, regionCode: p.regionCode });
  }).join('\n');
  await eventually(
    async () =>
      (
        await request(platform.urls['data-query'])
          .post(`/api/v1/data/${encodeURIComponent(CODE)}/batches`)
          .set('authorization', `Bearer ${providerToken}`)
          .set('content-type', 'application/x-ndjson')
          .send(rows)
      ).status === 200,
    15_000,
    'the resource at data-query',
  );
}, 90_000);
afterAll(async () => {
  await platform?.stop();
  await db?.drop();
  await deleteKeys(prefix);
  redis.disconnect();
});

test('SIGKILL of the only worker mid-job: another replica takes the ticket over and the job succeeds with exact counts', async () => {
  const records = Array.from({ length: RECORDS }, (_, j) => recordOf(j));
  const expected: Record<string, number> = {};
  for (const r of records) expected[r.expected] = (expected[r.expected] ?? 0) + 1;
  const created = await eventually(async () => {
    const r = await request(platform.urls.gateway)
      .post('/api/v1/jobs')
      .set('authorization', `Bearer ${consumerToken}`)
      .send({ kind: 'compare', resourceCode: CODE, parameters: { items: ['name'] } });
    return r.status === 202 ? r : undefined;
  });
  const id = created.body.id as string;
  await request(platform.urls.gateway)
    .put(`/api/v1/jobs/${id}/input`)
    .set('authorization', `Bearer ${consumerToken}`)
    .set('content-type', 'application/x-ndjson')
    .send(records.map((r) => JSON.stringify({ idNumber: r.idNumber, name: r.name })).join('\n'))
    .expect(202);
  const job = (url: string) => request(url).get(`/api/v1/jobs/${id}`).set('authorization', `Bearer ${consumerToken}`);
  // Mid-job: some chunks committed, most not.
  const before = await eventually(
    async () => {
      const r = await job(platform.urls['data-query']);
      return r.body.status === 'running' && r.body.progress.done >= 2_000 ? (r.body as { progress: { done: number } }) : undefined;
    },
    30_000,
    'the job under way',
  );
  await platform.kill('data-query');
  expect(before.progress.done).toBeLessThan(RECORDS);
  const replica = await platform.replica('data-query');
  const done = await eventually(
    async () => {
      const r = await job(replica);
      return r.body.status === 'succeeded' || r.body.status === 'failed' ? (r.body as Record<string, unknown>) : undefined;
    },
    60_000,
    'the job to end on the other replica',
  );
  expect(done).toMatchObject({ status: 'succeeded', progress: { done: RECORDS, total: RECORDS }, resultRecords: RECORDS, counts: expected });
  const res = await request(replica).get(`/api/v1/jobs/${id}/result`).set('authorization', `Bearer ${consumerToken}`).expect(200);
  const lines = res.text.split('\n').filter(Boolean);
  expect(lines).toHaveLength(RECORDS);
  const wrong = lines.map((l) => JSON.parse(l) as { _record: number; _result: string }).filter((l, j) => l._record !== j + 1 || l._result !== records[j].expected);
  expect(wrong).toEqual([]);
  expect(createHash('sha256').update(res.text).digest('hex')).toBe(done.resultSha256);
}, 150_000);
