import { Redis } from 'ioredis';
import { createEvent, untypedEvent, type GrantView } from '@gdx/contracts';
import { streamKey } from '@gdx/events';
import { GrantCache } from '@gdx/gateway/testing';
import { eventually } from '../helpers/wait';
import { grantView } from '../helpers/grants';
import { deleteKeys, REDIS_URL, testPrefix } from '../helpers/redis';

/**
 * The gateway's grant cache reads the grant stream with a plain XREAD (every replica
 * sees every event, no consumer group), so it cannot dead-letter what the contracts
 * do not declare: it skips it, counts it and goes on with what follows.
 */
// One stream per test: a cache reads its stream from the start.
const prefixes = [testPrefix(), testPrefix()];
let redis: Redis;
const caches: GrantCache[] = [];

beforeAll(() => {
  redis = new Redis(REDIS_URL);
});
afterAll(async () => {
  await Promise.all(caches.map((c) => c.stop()));
  redis.disconnect();
  for (const p of prefixes) await deleteKeys(p);
});

const unit = '01900000-0000-7000-8000-0000000000c1';
const view = (id: string, over: Partial<GrantView> = {}): GrantView =>
  grantView({
    id,
    consumerUnitId: unit,
    providerUnitId: '01900000-0000-7000-8000-0000000000d1',
    rateLimitPerSecond: 10,
    dailyQuota: 100,
    validFrom: '2026-01-01T00:00:00Z',
    validTo: '2027-01-01T00:00:00Z',
    purpose: 'test',
    requestId: '01900000-0000-7000-8000-0000000000e1',
    ...over,
  });
const actor = { kind: 'system' as const };

function startCache(prefix: string, items: unknown[] = []): GrantCache {
  const cache = new GrantCache({ redis: new Redis(REDIS_URL), prefix, blockMs: 100, loadSnapshot: async () => ({ position: '0-0', items }) });
  caches.push(cache);
  cache.start();
  return cache;
}

test('an invalid grant event is skipped and counted; the valid one after it is applied', async () => {
  const cache = startCache(prefixes[0]);
  await eventually(async () => cache.ready, 5_000, 'the snapshot');
  const stream = streamKey(prefixes[0], 'grant');
  const good = view('01900000-0000-7000-8000-000000000001');
  // A grant.issued whose grant has no validTo and an unknown status: not what the catalogue declares.
  const { validTo: _, ...partial } = good;
  const bad = untypedEvent('grant.issued', { actor, subject: '01900000-0000-7000-8000-000000000002', data: { ...partial, id: '01900000-0000-7000-8000-000000000002', status: 'granted' } });
  await redis.xadd(stream, '*', 'event', JSON.stringify(bad));
  await redis.xadd(stream, '*', 'event', 'not json');
  await redis.xadd(stream, '*', 'event', JSON.stringify(createEvent('grant.issued', { actor, subject: good.id, data: good })));
  await eventually(async () => cache.get(good.id), 5_000, 'the valid grant');
  expect(cache.get('01900000-0000-7000-8000-000000000002')).toBeUndefined();
  expect(cache.skipped).toBe(2);
  expect(cache.find(unit, '101001/0001').map((g) => g.id)).toEqual([good.id]);

  // A later state of the grant replaces it; superseded is just its new status.
  await redis.xadd(
    stream,
    '*',
    'event',
    JSON.stringify(createEvent('grant.superseded', { actor, subject: good.id, data: { ...good, status: 'superseded', version: 2, supersededBy: '01900000-0000-7000-8000-000000000009' } })),
  );
  await eventually(async () => cache.get(good.id)?.status === 'superseded', 5_000, 'the superseded state');
  expect(cache.get(good.id)).toMatchObject({ version: 2, items: new Set(['idNumber', 'name']), providerUnitId: good.providerUnitId });
  expect(cache.skipped).toBe(2);
});

test('a snapshot item that is not a grant view is skipped and counted; the others are taken in', async () => {
  const ok = view('01900000-0000-7000-8000-000000000011');
  const cache = startCache(prefixes[1], [{ ...view('01900000-0000-7000-8000-000000000012'), modes: ['telepathy'] }, ok]);
  await eventually(async () => cache.ready, 5_000, 'the snapshot');
  expect(cache.get(ok.id)).toMatchObject({ id: ok.id, modes: ['interface'], rateLimitPerSecond: 10 });
  expect(cache.get('01900000-0000-7000-8000-000000000012')).toBeUndefined();
  expect(cache.skipped).toBe(1);
});
