import { randomUUID } from 'node:crypto';
import request from 'supertest';
import type { Client } from 'pg';
import type { Redis } from 'ioredis';
import type { App } from '@gdx/service-kit';
import { deadLetterKey, streamKey } from '@gdx/events';
import { checkEvent, untypedEvent } from '@gdx/contracts';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { deleteKeys, testPrefix } from '../helpers/redis';
import { auditorToken, newRedis, publish, queryEvent, recordCount, someEvents, sql, startAudit, waitFor } from './audit-test-kit';

const DOMAINS = ['auth', 'unit', 'account', 'client', 'resource', 'request', 'grant', 'query', 'data'];

describe('audit ingestion: exactly one record per event', () => {
  let db: TestDatabase;
  let prefix: string;
  let redis: Redis;
  let pg: Client;
  const apps: App[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    prefix = testPrefix();
    redis = newRedis();
    pg = await sql(db.url);
  });

  afterAll(async () => {
    for (const app of apps) await app.close();
    await pg.end();
    await redis.quit();
    await db.drop();
    await deleteKeys(prefix);
  });

  it('N events with duplicates and a reader killed mid-batch give exactly N records on intact chains', async () => {
    const events = someEvents(600);
    // A reader of the audit group that takes a batch and dies without acknowledging it.
    for (const d of DOMAINS) await redis.xgroup('CREATE', streamKey(prefix, d), 'audit', '0', 'MKSTREAM');
    await publish(redis, prefix, events.slice(0, 200));
    const stolen = (await redis.xreadgroup('GROUP', 'audit', 'doomed', 'COUNT', 50, 'STREAMS', ...DOMAINS.map((d) => streamKey(prefix, d)), ...DOMAINS.map(() => '>'))) as [string, unknown[]][];
    const stolenCount = stolen.reduce((n, [, entries]) => n + entries.length, 0);
    expect(stolenCount).toBeGreaterThan(0);

    // Two replicas, each with two readers, small batches so they really interleave on the chains.
    apps.push(await startAudit(db.url, prefix, { auditBatchSize: 25, auditChains: 4 }));
    apps.push(await startAudit(db.url, prefix, { auditBatchSize: 25, auditChains: 4 }));
    // Redeliveries: the same envelopes again (a relay that crashed between XADD and its mark).
    await publish(redis, prefix, [...events.slice(200), ...events.slice(0, 150), ...events.slice(500)]);

    await waitFor('all records', async () => (await recordCount(pg)) >= events.length);
    // Let the readers settle (reclaims of the dead reader's entries included), then count again.
    await waitFor('nothing pending', async () => {
      let pending = 0;
      for (const d of DOMAINS) pending += Number(((await redis.xpending(streamKey(prefix, d), 'audit')) as [number])[0]);
      return pending === 0;
    });
    expect(await recordCount(pg)).toBe(events.length);
    const { rows: perEvent } = await pg.query('SELECT count(DISTINCT event_id)::int AS n FROM audit_record');
    expect(perEvent[0].n).toBe(events.length);
    const { rows: chains } = await pg.query('SELECT chain, count(*)::int AS n, max(position)::int AS head FROM audit_record GROUP BY chain ORDER BY chain');
    expect(chains.length).toBeGreaterThan(1);
    for (const c of chains) expect(c.head).toBe(c.n);

    const res = await request(apps[0].server).get('/api/v1/audit/verify').auth(auditorToken(), { type: 'bearer' }).expect(200);
    expect(res.body).toMatchObject({ ok: true, records: events.length, firstProblem: null });
  });

  it('keeps the envelope and the fields it finds in the data', async () => {
    const [event] = someEvents(1);
    await publish(redis, prefix, [event]);
    const res = await waitFor('the record', async () => {
      const r = await request(apps[0].server).get(`/api/v1/audit/records/${event.id}`).auth(auditorToken(), { type: 'bearer' });
      return r.status === 200 ? r : undefined;
    });
    const d = event.data;
    expect(res.body).toMatchObject({
      id: event.id,
      type: 'query.executed',
      occurredAt: event.occurredAt,
      actor: { kind: 'client', unitId: event.actor.unitId, clientId: event.actor.clientId, accountId: null },
      subject: event.subject,
      traceparent: event.traceparent,
      resourceCode: d.resourceCode,
      grantId: d.grantId,
      route: d.route,
      mode: 'interface',
      items: ['name', 'idNumber'],
      rowCount: 1,
      result: 'allowed',
      latencyMs: 2.5,
      requestId: d.requestId,
      sourceAddress: '10.0.0.7',
      ownerUnitId: d.providerUnitId,
      data: d,
    });
    expect(res.body.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('stores awkward values exactly as the event had them, so their hashes verify', async () => {
    // Tabs, line breaks, backslashes and a literal \N: what the COPY text format must escape.
    const awkward = queryEvent(randomUUID(), randomUUID(), {
      items: ['a"b', 'c\\d', 'e,f', '{g}', 'NULL', '', '身份证号', 'tab\there', '\\N'],
      latencyMs: 0.1 + 0.2,
      rowCount: 9007199254740991,
      note: 'line\nbreak \u2028 \u0001 \t \r\n \\N \\\\',
      requestId: 'req\t\\N\n',
      sourceAddress: '\\N',
    });
    await publish(redis, prefix, [awkward]);
    const res = await waitFor('the record', async () => {
      const r = await request(apps[0].server).get(`/api/v1/audit/records/${awkward.id}`).auth(auditorToken(), { type: 'bearer' });
      return r.status === 200 ? r : undefined;
    });
    expect(res.body).toMatchObject({
      items: ['a"b', 'c\\d', 'e,f', '{g}', 'NULL', '', '身份证号', 'tab\there', '\\N'],
      latencyMs: 0.1 + 0.2,
      rowCount: 9007199254740991,
      requestId: 'req\t\\N\n',
      sourceAddress: '\\N',
      data: awkward.data,
    });
    const report = await request(apps[0].server).get('/api/v1/audit/verify').auth(auditorToken(), { type: 'bearer' }).expect(200);
    expect(report.body.firstProblem).toBeNull();
  });

  it('keeps events the catalogue does not declare or whose data has another shape: the trail drops nothing', async () => {
    // Other consumers dead-letter these (checkEvent); the audit consumer does not validate.
    const undeclared = untypedEvent('data.batch_accepted', { actor: { kind: 'system' }, subject: 'b-1', data: { rows: 3 } });
    const misshapen = untypedEvent('client.revoked', { actor: { kind: 'system' }, subject: 'c-1', data: { clientId: 42 } });
    const wrongVersion = { ...untypedEvent('unit.updated', { actor: { kind: 'system' }, subject: 'u-1', data: { changed: ['name'] } }), version: 99 };
    expect([undeclared, misshapen, wrongVersion].map((e) => checkEvent(e) !== undefined)).toEqual([true, true, true]);
    await publish(redis, prefix, [undeclared, misshapen, wrongVersion]);
    for (const e of [undeclared, misshapen, wrongVersion]) {
      const { rows } = await waitFor(`the record of ${e.type}`, async () => {
        const r = await pg.query('SELECT type, data FROM audit_record WHERE event_id = $1', [e.id]);
        return r.rowCount === 1 ? r : undefined;
      });
      expect(rows[0]).toEqual({ type: e.type, data: e.data });
    }
  });

  it('records the good events of a batch and dead-letters one it can never record, after bounded retries', async () => {
    const good = someEvents(3);
    const [bad] = someEvents(1);
    const broken = { ...bad, id: 'not-a-uuid' };
    const before = await redis.xlen(deadLetterKey(prefix));
    const p = redis.pipeline();
    for (const e of [good[0], broken, good[1], good[2]]) p.xadd(streamKey(prefix, 'query'), '*', 'event', JSON.stringify(e));
    await p.exec();
    for (const e of good) await waitFor('a good record', async () => (await pg.query('SELECT 1 FROM audit_record WHERE event_id = $1', [e.id])).rowCount === 1);
    const letter = await waitFor(
      'the dead letter',
      async () => {
        const entries = (await redis.xrange(deadLetterKey(prefix), '-', '+')) as [string, string[]][];
        return entries.length > before ? entries.find(([, f]) => f.includes('too many failed deliveries')) : undefined;
      },
      30_000,
    );
    expect(letter[1]).toEqual(expect.arrayContaining(['group', 'audit', 'reason', 'too many failed deliveries']));
    expect(JSON.parse(letter[1][letter[1].indexOf('event') + 1]).id).toBe('not-a-uuid');
  });

  it('shows lag, pending entries and dead letters on /metrics', async () => {
    const before = await redis.xlen(deadLetterKey(prefix));
    await redis.xadd(streamKey(prefix, 'grant'), '*', 'junk', 'not an event');
    // This entry's dead letter, and its acknowledgement (which follows the dead letter).
    await waitFor('the dead letter', async () => (await redis.xlen(deadLetterKey(prefix))) > before);
    await waitFor('the junk acknowledged', async () => Number(((await redis.xpending(streamKey(prefix, 'grant'), 'audit')) as [number])[0]) === 0);
    const metrics = await request(apps[0].server).get('/metrics').expect(200);
    expect(metrics.text).toContain(`audit_consumer_lag{stream="${streamKey(prefix, 'query')}",service="audit"} 0`);
    expect(metrics.text).toContain(`audit_consumer_pending{stream="${streamKey(prefix, 'grant')}",service="audit"} 0`);
    expect(metrics.text).toMatch(/audit_dead_letters\{service="audit"\} [1-9]/);
    expect(metrics.text).toMatch(/audit_records_written_total\{service="audit"\} [1-9]/);
    // A dead-lettered audit event is an alarm (issue 11): readiness fails, naming the count.
    const ready = await request(apps[0].server).get('/health/ready').expect(503);
    expect(ready.body.checks).toMatchObject({ 'audit-dead-letters': expect.stringMatching(/^failed: [1-9]\d* audit events? dead-lettered$/), postgres: 'ok', redis: 'ok' });
  });

  it('fails readiness while the consumer lag is past its bound, and recovers once caught up', async () => {
    const behind = testPrefix();
    // One reader taking one event per transaction: 600 events keep it busy for seconds.
    const slow = await startAudit(db.url, behind, { maxConsumerLag: 20, auditConsumers: 1, auditBatchSize: 1 });
    apps.push(slow);
    await publish(redis, behind, someEvents(600));
    const notReady = await request(slow.server).get('/health/ready').expect(503);
    expect(notReady.body.checks).toMatchObject({ 'consumer-lag': 'failed', postgres: 'ok', redis: 'ok' });
    const lagLine = (await request(slow.server).get('/metrics')).text.split('\n').find((l) => l.startsWith(`audit_consumer_lag{stream="${streamKey(behind, 'query')}"`));
    expect(Number(lagLine?.split(' ').pop())).toBeGreaterThan(20);
    await waitFor('readiness', async () => (await request(slow.server).get('/health/ready')).status === 200, 45_000);
    await deleteKeys(behind);
  });
});
