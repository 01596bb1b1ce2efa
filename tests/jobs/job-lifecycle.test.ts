import request from 'supertest';
import { personOf } from '@gdx/data-query/testing';
import { startPlatform, type TestPlatform } from '../helpers/platform';
import { addUser, type TestUser } from '../helpers/gateway';
import { Client } from 'pg';
import { eventually } from '../helpers/wait';
import { EventWriter, grantOf, starterResource, submitRows, type Grant } from '../data-query/support';

/**
 * Issue 13: what happens to a job over time. A grant suspended while its job runs stops the job
 * at the next chunk (decided again every chunk); a result is deleted when its retention ends and
 * the job is then `expired` (410 for the download, on the record as `job.expired`).
 */
const CODE = '101001/0001';
let platform: TestPlatform;
let events: EventWriter;
let provider: TestUser;
let consumer: TestUser;
let grant: Grant;
const people = Array.from({ length: 30 }, (_, i) => personOf(i));

beforeAll(async () => {
  // Results kept for about two seconds; one record per chunk, so a job of a few thousand records runs for a while.
  platform = await startPlatform(['data-query'], { config: { 'data-query': { jobChunkRecords: 1, jobResultTtlHours: 0.0006, jobSweepMs: 100 } } });
  events = new EventWriter(platform);
  provider = await addUser(platform.gateway, 'GA', ['unit_admin']);
  consumer = await addUser(platform.gateway, 'LZH', ['unit_operator']);
  await events.resource(starterResource(CODE, provider.unitId));
  await submitRows(
    platform,
    CODE,
    provider,
    people.map((p, i) => ({ idNumber: p.idNumber, name: `P${i}`, sex: p.sex, birthDate: p.birthDate, regionCode: p.regionCode })),
  ).expect(200);
  grant = grantOf({ consumerUnitId: consumer.unitId, providerUnitId: provider.unitId, resourceCode: CODE, items: ['idNumber', 'name'], modes: ['customization'] });
  await events.grant(grant);
});
afterAll(async () => {
  events?.close();
  await platform?.close();
});

/** Result lines a job has in data-query's own table. */
async function resultLines(id: string): Promise<number> {
  const c = new Client({ connectionString: platform.db.url });
  await c.connect();
  try {
    return (await c.query<{ n: number }>('SELECT count(*)::int AS n FROM data_query.job_result WHERE job_id = $1', [id])).rows[0].n;
  } finally {
    await c.end();
  }
}

/** The job once it is in one of `statuses` (its view). */
async function untilStatus(
  id: string,
  statuses: string[],
  what: string,
  timeoutMs = 15_000,
): Promise<{ status: string; error: string; progress: { done: number }; counts: Record<string, number>; expiresAt: string; finishedAt: string }> {
  return eventually(
    async () => {
      const r = await getJob(id);
      return statuses.includes(r.body.status as string) ? r.body : undefined;
    },
    timeoutMs,
    what,
  );
}

/** A job of the consumer, accepted (202). */
const submitJob = (body: object) => request(platform.gatewayUrl).post('/api/v1/jobs').set('authorization', auth()).send(body).expect(202);

const auth = () => `Bearer ${consumer.token}`;
const getJob = (id: string) => request(platform.gatewayUrl).get(`/api/v1/jobs/${id}`).set('authorization', auth());

test('a grant suspended mid-job stops it at the next chunk: failed, with the reason, the counts of the chunks done', async () => {
  const records = Array.from({ length: 3_000 }, (_, j) => ({ idNumber: people[j % people.length].idNumber, name: `P${j % people.length}` }));
  const created = await submitJob({ kind: 'compare', resourceCode: CODE, parameters: { items: ['name'] } });
  const id = created.body.id as string;
  await request(platform.gatewayUrl)
    .put(`/api/v1/jobs/${id}/input`)
    .set('authorization', auth())
    .set('content-type', 'application/x-ndjson')
    .send(records.map((r) => JSON.stringify(r)).join('\n'))
    .expect(202);
  await eventually(async () => ((await getJob(id)).body.progress.done as number) > 0, 15_000, 'the job under way');
  await events.grant({ ...grant, status: 'suspended', statusReason: 'inspection', version: 2 }, 'grant.suspended');
  const ended = await untilStatus(id, ['succeeded', 'failed', 'cancelled'], 'the job to stop');
  expect(ended.status).toBe('failed');
  expect(ended.error).toMatch(/^GRANT_NOT_ACTIVE: /);
  expect(ended.progress.done).toBeLessThan(records.length);
  expect(ended.counts.match).toBe(ended.progress.done);
  expect((await request(platform.gatewayUrl).get(`/api/v1/jobs/${id}/result`).set('authorization', auth()).expect(409)).body.code).toBe('RESULT_NOT_READY');
  const finished = await eventually(async () => {
    const es = await events.eventsOf('job', (e) => e.data.jobId === id && e.type === 'job.finished');
    return es[0];
  });
  expect(finished.data).toMatchObject({ status: 'failed', error: expect.stringMatching(/^GRANT_NOT_ACTIVE/), rowCount: 0, resultSha256: null });
  // Nothing of a failed job is kept: its input and its partial result are dropped.
  await eventually(async () => (await resultLines(id)) === 0, 10_000, 'the partial result dropped');
  await events.grant({ ...grant, status: 'active', statusReason: null, version: 3 }, 'grant.resumed');
});

test('a result past its retention is deleted: the job is expired and its download answers 410', async () => {
  const created = await submitJob({ kind: 'compare', resourceCode: CODE, parameters: { items: ['name'] }, records: [{ idNumber: people[0].idNumber, name: 'P0' }] });
  const id = created.body.id as string;
  const done = await untilStatus(id, ['succeeded'], 'the job to succeed');
  expect(Date.parse(done.expiresAt) - Date.parse(done.finishedAt)).toBeGreaterThan(2_000);
  expect((await untilStatus(id, ['expired'], 'the job to expire')).status).toBe('expired');
  expect((await request(platform.gatewayUrl).get(`/api/v1/jobs/${id}/result`).set('authorization', auth()).expect(410)).body.code).toBe('RESULT_EXPIRED');
  expect(await resultLines(id)).toBe(0);
  const es = await eventually(async () => {
    const all = await events.eventsOf('job', (e) => e.data.jobId === id && e.type === 'job.expired');
    return all.length ? all : undefined;
  });
  expect(es[0].data).toMatchObject({ status: 'expired', unitId: consumer.unitId, providerUnitId: provider.unitId });
});

test('a job whose input never comes is given up on after the retention time: cancelled, its unit’s place freed', async () => {
  const created = await submitJob({ kind: 'compare', resourceCode: CODE, parameters: { items: ['name'] } });
  const id = created.body.id as string;
  expect(created.body.status).toBe('awaiting-input');
  const ended = await untilStatus(id, ['cancelled'], 'the job to be given up on');
  expect(ended.error).toMatch(/^INPUT_NEVER_GIVEN: /);
});

test('PostgreSQL emptied the unlogged job tables (a crash, a failover): a succeeded job is expired, never served partly; the marker is put back', async () => {
  const created = await submitJob({ kind: 'compare', resourceCode: CODE, parameters: { items: ['name'] }, records: [{ idNumber: people[1].idNumber, name: 'P1' }] });
  const id = created.body.id as string;
  await untilStatus(id, ['succeeded'], 'the job to succeed');
  // What crash recovery does to unlogged tables: empty them (their init fork), the marker row included.
  const c = new Client({ connectionString: platform.db.url });
  await c.connect();
  try {
    await c.query('TRUNCATE data_query.job_input, data_query.job_result, data_query.job_storage');
    const ended = await untilStatus(id, ['expired'], 'the job to be expired');
    expect(ended.error).toMatch(/^STORAGE_LOST: /);
    expect((await request(platform.gatewayUrl).get(`/api/v1/jobs/${id}/result`).set('authorization', auth()).expect(410)).body.code).toBe('RESULT_EXPIRED');
    expect((await c.query('SELECT count(*)::int AS n FROM data_query.job_storage')).rows[0].n).toBe(1);
  } finally {
    await c.end();
  }
});
