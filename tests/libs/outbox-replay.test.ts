import { Redis } from 'ioredis';
import type { DataSource } from 'typeorm';
import { migrate } from '@gdx/database';
import { EventPublisher, OutboxRelay, OutboxWriter, epochKey, idempotent, StreamConsumer, streamKey, type EventEnvelope } from '@gdx/events';
import { untypedEvent, type DeclaredEvent } from '@gdx/contracts';
import { gatewayDataSource } from '@gdx/gateway';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { testPrefix } from '../helpers/redis';
import { startOwnRedis, type OwnRedis } from '../helpers/redis-server';
import { eventually } from '../helpers/wait';

/**
 * Issue 16 (2): Redis is the transport, PostgreSQL the truth. A Redis of the test's own is
 * killed (no persistence) and started empty; the relay must publish again, in order, exactly
 * what the consumer groups had not acknowledged, and nothing new before it.
 */
let db: TestDatabase;
let ds: DataSource;
let own: OwnRedis;
const opened: { db: TestDatabase; ds: DataSource }[] = [];
let redis: Redis;
const actor = { kind: 'system' as const };

/** One outbox serves one platform (one prefix): each test gets a database of its own. */
beforeEach(async () => {
  db = await createTestDatabase();
  ds = gatewayDataSource(db.url, 4);
  await migrate(ds);
  await ds.initialize();
  await ds.query('CREATE TABLE public.effect (event_id uuid NOT NULL, subject text NOT NULL, at serial)');
  opened.push({ db, ds });
});
beforeAll(async () => {
  own = await startOwnRedis();
  redis = new Redis(own.url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, retryStrategy: () => 50 });
  redis.on('error', () => undefined);
  await eventually(async () => redis.status === 'ready');
});
afterAll(async () => {
  redis?.disconnect();
  await own?.stop();
  for (const o of opened) {
    await o.ds.destroy();
    await o.db.drop();
  }
});

const ev = (subject: string) => untypedEvent('test.happened', { actor, subject, data: {} }) as DeclaredEvent;
const stream = (prefix: string) => streamKey(prefix, 'test');
const subjectsIn = async (prefix: string) => (await redis.xrange(stream(prefix), '-', '+')).map(([, f]) => (JSON.parse(f[1]) as EventEnvelope).subject);

/** A consumer group that records each event's effect once (deduped by event id). */
function recorder(prefix: string, group: string) {
  const c = new StreamConsumer({
    redis: new Redis(own.url, { maxRetriesPerRequest: null, retryStrategy: () => 50 }),
    prefix,
    domains: ['test'],
    group,
    blockMs: 100,
    claimIdleMs: 60_000,
    handleBatch: idempotent(ds, group, async (events, m) => {
      for (const e of events) await m.query('INSERT INTO public.effect (event_id, subject) VALUES ($1, $2)', [e.id, e.subject]);
    }),
  });
  c['options'].redis.on('error', () => undefined);
  return c;
}

test('Redis restarted empty: what the groups had not acknowledged is published again, in order, before anything new; applied once', async () => {
  const prefix = testPrefix();
  const relay = new OutboxRelay(ds, redis, { prefix, pollMs: 50, checkMs: 200 });
  const publisher = new EventPublisher(ds);
  publisher.setListener(relay);
  relay.start();
  const emit = (s: string) => publisher.transaction(async (_m, e) => e(ev(s)));

  // Five events consumed and acknowledged by the group, then the consumer stops (a stalled audit service).
  const c1 = recorder(prefix, 'g');
  c1.start();
  for (const s of ['a1', 'a2', 'a3', 'a4', 'a5']) await emit(s);
  await eventually(async () => (await ds.query(`SELECT count(*)::int n FROM public.effect WHERE subject LIKE 'a%'`))[0].n === 5);
  await c1.stop();
  // The relay's next check records the group's acknowledgement.
  await relay.check();
  const [mark] = await ds.query(`SELECT acked_ms, acked_seq FROM outbox_stream WHERE domain = 'test'`);
  expect(Number(mark.acked_ms)).toBeGreaterThan(0);

  // Three more reach Redis while nobody reads them.
  for (const s of ['b1', 'b2', 'b3']) await emit(s);
  await eventually(async () => (await subjectsIn(prefix)).length === 8);

  await own.kill();
  // One more committed while Redis is down.
  await emit('c1');
  await own.restart();
  await eventually(async () => redis.status === 'ready');
  await emit('c2');

  // Published again: exactly the unacknowledged ones, oldest first, then what came after.
  await eventually(async () => (await subjectsIn(prefix).catch(() => [])).length === 5, 15_000, 'the replay');
  expect(await subjectsIn(prefix)).toEqual(['b1', 'b2', 'b3', 'c1', 'c2']);
  expect(await redis.get(epochKey(prefix))).toBeTruthy();

  // The consumer, back, ends with every event applied once.
  const c2 = recorder(prefix, 'g');
  c2.start();
  await eventually(async () => (await ds.query(`SELECT count(*)::int n FROM public.effect WHERE subject IN ('b1','b2','b3','c1','c2')`))[0].n === 5);
  await c2.stop();
  await relay.stop();
  const counts: { subject: string; n: number }[] = await ds.query(`SELECT subject, count(*)::int n FROM public.effect GROUP BY subject ORDER BY min(at)`);
  expect(counts).toEqual(['a1', 'a2', 'a3', 'a4', 'a5', 'b1', 'b2', 'b3', 'c1', 'c2'].map((subject) => ({ subject, n: 1 })));
});

test('a stream that goes back in time (restored from an older state) gets back what it lost; nothing is replayed while the streams are intact', async () => {
  const prefix = testPrefix();
  const relay = new OutboxRelay(ds, redis, { prefix, pollMs: 50, checkMs: 60_000 });
  const publisher = new EventPublisher(ds);
  publisher.setListener(relay);
  await relay.check();
  const emit = (s: string) => publisher.transaction(async (_m, e) => e(ev(s)));
  await emit('x1');
  await emit('x2');
  await relay.drain();
  // A group that has read and acknowledged both.
  await redis.xgroup('CREATE', stream(prefix), 'reader', '0');
  const read = (await redis.xreadgroup('GROUP', 'reader', 'r', 'STREAMS', stream(prefix), '>')) as [string, [string, string[]][]][];
  await redis.xack(stream(prefix), 'reader', ...read[0][1].map(([id]) => id));
  expect((await relay.check()).replayed).toEqual({});

  // The stream is gone while the epoch marker stayed (an older snapshot without it, an operator's DEL).
  await redis.del(stream(prefix));
  const check = await relay.check();
  expect(check.replayed).toEqual({ test: 2 });
  await relay.drain();
  expect(await subjectsIn(prefix)).toEqual(['x1', 'x2']);
  expect((await relay.check()).replayed).toEqual({});
});

test('a relay holding an old epoch cannot publish into a new Redis until it has replayed', async () => {
  const prefix = testPrefix();
  const relay = new OutboxRelay(ds, redis, { prefix, pollMs: 50, checkMs: 60_000 });
  const publisher = new EventPublisher(ds);
  publisher.setListener(relay);
  await relay.check();
  await publisher.transaction(async (_m, e) => e(ev('old')));
  await relay.drain();
  // Another relay (another service) found Redis empty and set a new epoch.
  await redis.del(stream(prefix));
  await redis.set(epochKey(prefix), 'another-epoch');
  await publisher.transaction(async (_m, e) => e(ev('new')));
  // The batch is refused as a whole; the next drain checks first and replays.
  await expect(relay['publishBatch']()).rejects.toThrow(/GDXEPOCH/);
  expect(await redis.exists(stream(prefix))).toBe(0);
  await relay.drain();
  expect(await subjectsIn(prefix)).toEqual(['old', 'new']);
  const [mark] = await ds.query(`SELECT epoch FROM outbox_stream WHERE domain = 'test'`);
  expect(mark.epoch).toBe('another-epoch');
});

test('rows every group acknowledged are deleted after the retention window; unacknowledged ones stay', async () => {
  const prefix = testPrefix();
  const relay = new OutboxRelay(ds, redis, { prefix, pollMs: 50, checkMs: 60_000, retentionMs: 0 });
  const publisher = new EventPublisher(ds);
  publisher.setListener(relay);
  await relay.check();
  const done = ev('done');
  const open = ev('open');
  await publisher.transaction(async (_m, e) => e(done));
  await relay.drain();
  await redis.xgroup('CREATE', stream(prefix), 'reader', '0');
  const read = (await redis.xreadgroup('GROUP', 'reader', 'r', 'COUNT', 1, 'STREAMS', stream(prefix), '>')) as [string, [string, string[]][]][];
  await redis.xack(stream(prefix), 'reader', read[0][1][0][0]);
  await publisher.transaction(async (_m, e) => e(open));
  await relay.drain();
  // Delivered to the group but not acknowledged: it stays, as does anything not yet published.
  await redis.xreadgroup('GROUP', 'reader', 'r', 'COUNT', 1, 'STREAMS', stream(prefix), '>');
  const check = await relay.check();
  expect(check.deleted).toBeGreaterThanOrEqual(1);
  const left: { id: string }[] = await ds.query('SELECT id FROM outbox WHERE id = ANY($1::uuid[])', [[done.id, open.id]]);
  expect(left.map((r) => r.id)).toEqual([open.id]);
});

test('the outbox writer puts concurrent events in one statement, resolves each after the commit, and refuses once closed', async () => {
  const kicks: number[] = [];
  const writer = new OutboxWriter(ds, { kick: () => kicks.push(1) }, { maxInFlight: 1 });
  const events = Array.from({ length: 40 }, (_, i) => ev(`w${i}`));
  await Promise.all(events.map((e) => writer.publish(e)));
  const rows: { id: string }[] = await ds.query('SELECT id FROM outbox WHERE id = ANY($1::uuid[]) ORDER BY seq', [events.map((e) => e.id)]);
  expect(rows.map((r) => r.id)).toEqual(events.map((e) => e.id));
  expect(writer.stats.events).toBe(40);
  expect(writer.stats.calls).toBeLessThanOrEqual(2);
  expect(kicks.length).toBe(writer.stats.calls);
  writer.close();
  await expect(writer.publish(ev('late'))).rejects.toThrow(/closed/);
});
