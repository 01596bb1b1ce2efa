import { spawn, type ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import type { DataSource } from 'typeorm';
import { migrate } from '@gdx/database';
import { idempotent, OutboxRelay, StreamConsumer, EventPublisher, streamKey, deadLetterKey, type EventEnvelope } from '@gdx/events';
import { untypedEvent, type DeclaredEvent } from '@gdx/contracts';
import { gatewayDataSource } from '@gdx/gateway';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { deleteKeys, REDIS_URL, testPrefix } from '../helpers/redis';
import { freePort } from '../helpers/platform';
import { eventually } from '../helpers/wait';

let db: TestDatabase;
let ds: DataSource;
const prefix = testPrefix();
const actor = { kind: 'system' as const };

function consumer(redisUrl: string, group: string, handleBatch: (e: EventEnvelope[]) => Promise<void>, extra: Partial<ConstructorParameters<typeof StreamConsumer>[0]> = {}) {
  return new StreamConsumer({ redis: new Redis(redisUrl, { maxRetriesPerRequest: null }), prefix, domains: ['test'], group, handleBatch, blockMs: 100, claimIdleMs: 200, ...extra });
}

beforeAll(async () => {
  db = await createTestDatabase();
  ds = gatewayDataSource(db.url, 4);
  await migrate(ds);
  await ds.initialize();
  await ds.query('CREATE TABLE public.effect (event_id uuid NOT NULL, n int NOT NULL)');
});
afterAll(async () => {
  await ds?.destroy();
  await db?.drop();
  await deleteKeys(prefix);
});

describe('outbox relay', () => {
  let server: ChildProcess | undefined;
  const startRedis = (port: number) =>
    new Promise<ChildProcess>((resolve, reject) => {
      const p = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
      p.stdout.on('data', (b: Buffer) => b.toString().includes('Ready to accept connections') && resolve(p));
      p.on('error', reject);
    });
  afterAll(() => {
    server?.kill('SIGKILL');
  });

  test('an event written while Redis is down arrives after it comes back', async () => {
    const port = await freePort();
    const url = `redis://127.0.0.1:${port}`;
    server = await startRedis(port);
    const redis = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, retryStrategy: () => 100 });
    redis.on('error', () => undefined);
    await eventually(async () => redis.status === 'ready');
    const relay = new OutboxRelay(ds, redis, { prefix, pollMs: 100 });
    const publisher = new EventPublisher(ds);
    publisher.setListener(relay);
    relay.start();

    server.kill('SIGKILL');
    await eventually(async () => redis.status !== 'ready');
    const event = untypedEvent('test.happened', { actor, subject: 'while-down', data: { n: 1 } });
    // A made-up type on a stream of its own: the transport carries it like any declared event.
    await publisher.transaction(async (_m, emit) => emit(event as DeclaredEvent));
    await new Promise((r) => setTimeout(r, 300));
    const [{ published_at: stillPending }] = await ds.query('SELECT published_at FROM outbox WHERE id = $1', [event.id]);
    expect(stillPending).toBeNull();

    server = await startRedis(port);
    const entries = await eventually(async () => {
      const r = await redis.xrange(streamKey(prefix, 'test'), '-', '+').catch(() => []);
      return r.length ? r : undefined;
    });
    expect(JSON.parse(entries[0][1][1]).id).toBe(event.id);
    await relay.stop();
    redis.disconnect();
  });
});

describe('consumer groups', () => {
  let redis: Redis;
  beforeAll(() => {
    redis = new Redis(REDIS_URL);
  });
  afterAll(() => redis.disconnect());

  const publish = (e: EventEnvelope | string) => redis.xadd(streamKey(prefix, 'test'), '*', 'event', typeof e === 'string' ? e : JSON.stringify(e));

  test('an event read by a consumer that died before acknowledging is redelivered to another', async () => {
    const group = 'redeliver';
    await redis.xgroup('CREATE', streamKey(prefix, 'test'), group, '$', 'MKSTREAM');
    const event = untypedEvent('test.happened', { actor, subject: 'orphan', data: {} });
    await publish(event);
    // Consumer "dead" reads the entry and vanishes without XACK.
    const dead = new Redis(REDIS_URL);
    const read = (await dead.xreadgroup('GROUP', group, 'dead', 'COUNT', 10, 'STREAMS', streamKey(prefix, 'test'), '>')) as [string, [string, string[]][]][];
    expect(read[0][1]).toHaveLength(1);
    dead.disconnect();

    const seen: string[] = [];
    const c = consumer(
      REDIS_URL,
      group,
      async (events) => {
        seen.push(...events.map((e) => e.id));
      },
      { consumer: 'alive' },
    );
    c.start();
    await eventually(async () => seen.includes(event.id));
    await c.stop();
    const pending = (await redis.xpending(streamKey(prefix, 'test'), group)) as [number];
    expect(pending[0]).toBe(0);
  });

  test('a duplicate delivery has no second effect', async () => {
    const group = 'dedupe';
    await redis.xgroup('CREATE', streamKey(prefix, 'test'), group, '$', 'MKSTREAM');
    const event = untypedEvent('test.happened', { actor, subject: 'twice', data: {} });
    await publish(event);
    await publish(event);
    const marker = untypedEvent('test.happened', { actor, subject: 'marker', data: {} });
    await publish(marker);
    const c = consumer(
      REDIS_URL,
      group,
      idempotent(ds, group, async (events, m) => {
        for (const e of events) await m.query('INSERT INTO public.effect (event_id, n) VALUES ($1, 1)', [e.id]);
      }),
    );
    c.start();
    await eventually(async () => (await ds.query('SELECT 1 FROM public.effect WHERE event_id = $1', [marker.id])).length > 0);
    await c.stop();
    const rows = await ds.query('SELECT count(*)::int AS n FROM public.effect WHERE event_id = $1', [event.id]);
    expect(rows[0].n).toBe(1);
  });

  test('a poison event lands in the dead-letter stream after bounded retries, and the rest flow on', async () => {
    const group = 'poison';
    await redis.xgroup('CREATE', streamKey(prefix, 'test'), group, '$', 'MKSTREAM');
    const bad = untypedEvent('test.happened', { actor, subject: 'poison', data: {} });
    const good = untypedEvent('test.happened', { actor, subject: 'fine', data: {} });
    await publish('{not json');
    await publish(bad);
    await publish(good);
    let attempts = 0;
    const handled: string[] = [];
    const c = consumer(
      REDIS_URL,
      group,
      async (events) => {
        for (const e of events) {
          if (e.id === bad.id) {
            attempts++;
            throw new Error('cannot handle this one');
          }
          handled.push(e.id);
        }
      },
      { maxDeliveries: 3, claimIdleMs: 100, batchSize: 1 },
    );
    c.start();
    const dead = await eventually(async () => {
      const entries = await redis.xrange(deadLetterKey(prefix), '-', '+');
      return entries.filter(([, f]) => f.includes(group)).length === 2 ? entries : undefined;
    }, 15_000);
    await c.stop();
    expect(handled).toContain(good.id);
    expect(attempts).toBe(3);
    const reasons = dead.map(([, f]) => f[f.indexOf('reason') + 1]);
    expect(reasons.sort()).toEqual(['not an event envelope', 'too many failed deliveries']);
    const pending = (await redis.xpending(streamKey(prefix, 'test'), group)) as [number];
    expect(pending[0]).toBe(0);
  });
});
