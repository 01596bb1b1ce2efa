import { Redis } from 'ioredis';
import { decideGrant, type GrantView } from '@gdx/contracts';
import { cachedGrant, QuotaCounter, type CachedGrant } from '@gdx/gateway/testing';
import { eventually } from '../helpers/wait';
import { grantView } from '../helpers/grants';
import { deleteKeys, REDIS_URL, testPrefix } from '../helpers/redis';

const now = Date.parse('2026-11-26T10:00:00Z');
/** Ids are UUIDv7: ordered by issue time, so the later letter is the newer grant. */
const id = (n: string) => `01900000-0000-7000-8000-00000000000${n}`;
const view = (over: Partial<GrantView> = {}): GrantView =>
  grantView({
    id: id('1'),
    consumerUnitId: id('c'),
    providerUnitId: id('d'),
    rateLimitPerSecond: 10,
    dailyQuota: 100,
    validFrom: '2026-01-01T00:00:00Z',
    validTo: '2027-01-01T00:00:00Z',
    purpose: 'test',
    requestId: id('e'),
    ...over,
  });
/** The gateway's cache entry for a grant view: what the route hands the decision. */
const grant = (over: Partial<GrantView> = {}): CachedGrant => cachedGrant(view(over));
const decide = (grants: CachedGrant[], items: string[] | undefined) => decideGrant(grants, 'interface', items, now);

describe("grant decision on the gateway's cache entries", () => {
  test('allows the call an active grant covers', () => {
    expect(decide([grant()], ['name'])).toMatchObject({ ok: true, grant: { id: id('1'), providerUnitId: id('d'), rateLimitPerSecond: 10, dailyQuota: 100 } });
    expect(decide([grant()], undefined)).toMatchObject({ ok: true });
  });

  test.each([
    [[], 'NO_GRANT'],
    [[grant({ modes: ['data-call'] })], 'MODE_NOT_GRANTED'],
    [[grant({ status: 'suspended' })], 'GRANT_NOT_ACTIVE'],
    [[grant({ status: 'revoked' })], 'GRANT_NOT_ACTIVE'],
    [[grant({ status: 'superseded' })], 'GRANT_NOT_ACTIVE'],
    [[grant({ status: 'expired' })], 'GRANT_EXPIRED'],
    [[grant({ validTo: '2026-11-26T09:59:59Z' })], 'GRANT_EXPIRED'],
    [[grant({ validFrom: '2026-12-01T00:00:00Z' })], 'GRANT_NOT_YET_VALID'],
    [[grant({ items: ['name'] })], 'ITEM_NOT_GRANTED'],
  ] as [CachedGrant[], string][])('refuses with %j → %s', (grants, code) => {
    const d = decide(grants, ['idNumber']);
    expect(d).toMatchObject({ ok: false, code });
  });

  test('names the item that is not granted, and picks another grant that covers it', () => {
    const d = decide([grant({ items: ['name'] })], ['name', 'householdAddress']);
    expect(d).toMatchObject({ ok: false, code: 'ITEM_NOT_GRANTED', item: 'householdAddress' });
    expect(decide([grant({ id: id('a'), items: ['name'] }), grant({ id: id('b'), items: ['name', 'householdAddress'] })], ['householdAddress'])).toMatchObject({ ok: true, grant: { id: id('b') } });
  });

  test('a superseded grant is passed over for the active one that took its place', () => {
    const old = grant({ id: id('a'), status: 'superseded', items: ['name', 'householdAddress'] });
    const current = grant({ id: id('b'), items: ['name'] });
    expect(decide([old, current], ['name'])).toMatchObject({ ok: true, grant: { id: id('b') } });
    expect(decide([current, old], ['householdAddress'])).toMatchObject({ ok: false, code: 'ITEM_NOT_GRANTED', item: 'householdAddress', grant: { id: id('b') } });
  });

  describe('a unit holding two active grants for one resource', () => {
    // a: name; b: name and address. Both orders of the cache, and either grant the newer.
    const pairs = (aId: string, bId: string) => {
      const a = grant({ id: aId, items: ['name'] });
      const b = grant({ id: bId, items: ['name', 'address'] });
      return {
        a,
        b,
        orders: [
          [a, b],
          [b, a],
        ],
      };
    };

    test.each([
      ['a older', id('1'), id('2')],
      ['a newer', id('2'), id('1')],
    ])('asking for address → grant b, whatever the order (%s)', (_, aId, bId) => {
      const { orders } = pairs(aId, bId);
      for (const grants of orders) expect(decide(grants, ['address'])).toMatchObject({ ok: true, grant: { id: bId } });
      for (const grants of orders) expect(decide(grants, ['name', 'address'])).toMatchObject({ ok: true, grant: { id: bId } });
    });

    test.each([
      ['a older', id('1'), id('2')],
      ['a newer', id('2'), id('1')],
    ])('asking for name → the newest grant, whatever the order (%s)', (_, aId, bId) => {
      const { orders } = pairs(aId, bId);
      const newest = aId > bId ? aId : bId;
      for (const grants of orders) expect(decide(grants, ['name'])).toMatchObject({ ok: true, grant: { id: newest } });
      for (const grants of orders) expect(decide(grants, undefined)).toMatchObject({ ok: true, grant: { id: newest } });
    });

    test('asking for an item in neither → ITEM_NOT_GRANTED naming it', () => {
      const { orders } = pairs(id('1'), id('2'));
      for (const grants of orders) {
        const d = decide(grants, ['name', 'phone']);
        expect(d).toMatchObject({ ok: false, code: 'ITEM_NOT_GRANTED', item: 'phone' });
        expect(d.ok || d.detail).toContain('phone');
      }
    });
  });
});

// These tests take with clocks of their own (fixed instants in the past): the background
// hand-back, which goes by the wall clock, would return their leases mid-test.
const NO_SWEEP = { sweepMs: 0 };

describe('rate limit and daily quota in Redis', () => {
  const prefix = testPrefix();
  let redis: Redis;
  beforeAll(() => {
    redis = new Redis(REDIS_URL);
  });
  afterAll(async () => {
    redis.disconnect();
    await deleteKeys(prefix);
  });

  test('the per-second rate is shared by every counter on the same Redis', async () => {
    const a = new QuotaCounter(redis, prefix, NO_SWEEP);
    const other = new Redis(REDIS_URL);
    const b = new QuotaCounter(other, prefix, NO_SWEEP);
    const at = new Date('2026-11-26T10:00:00.100Z');
    const results = [];
    for (let i = 0; i < 5; i++) results.push(await (i % 2 ? a : b).take('rate-grant', 3, 1000, at));
    expect(results.map((r) => r.allowed)).toEqual([true, true, true, false, false]);
    expect(results[3]).toMatchObject({ reason: 'rate', resetSeconds: 1 });
    expect((await a.take('rate-grant', 3, 1000, new Date('2026-11-26T10:00:01.100Z'))).allowed).toBe(true);
    other.disconnect();
  });

  test('the daily quota stops the calls of the day, refused calls do not count, the next day starts afresh', async () => {
    const q = new QuotaCounter(redis, prefix, NO_SWEEP);
    const day = (s: number) => new Date(Date.parse('2026-11-26T01:00:00Z') + s * 1000);
    const outcomes = [];
    for (let s = 0; s < 4; s++) outcomes.push(await q.take('quota-grant', 100, 3, day(s)));
    expect(outcomes.map((o) => o.allowed)).toEqual([true, true, true, false]);
    expect(outcomes[3]).toMatchObject({ reason: 'quota', quotaRemaining: 0 });
    expect(outcomes[3].resetSeconds).toBeGreaterThan(0);
    expect(outcomes[2].quotaRemaining).toBe(0);
    // 2026-11-26T16:00Z is midnight in the city (UTC+8): a new quota day.
    expect((await q.take('quota-grant', 100, 3, new Date('2026-11-26T16:00:01Z'))).allowed).toBe(true);
  });

  const quotaKey = (grant: string, day = '2026-11-26') => `${prefix}quota:${grant}:${day}`;

  test('with room to spare a replica leases several calls at once, and hands back what it did not use', async () => {
    const q = new QuotaCounter(redis, prefix, NO_SWEEP);
    const at = new Date('2026-11-26T02:00:00.100Z');
    const first = await q.take('lease-grant', 1000, 100_000, at);
    // A sixteenth of the second's rate: 62 calls counted in Redis, one of them made.
    expect(Number(await redis.get(quotaKey('lease-grant')))).toBe(62);
    expect(first).toMatchObject({ allowed: true, rateRemaining: 1000 - 62 + 61, quotaRemaining: 100_000 - 62 + 61 });
    for (let i = 0; i < 61; i++) expect((await q.take('lease-grant', 1000, 100_000, at)).allowed).toBe(true);
    expect(Number(await redis.get(quotaKey('lease-grant')))).toBe(62);
    // The 63rd call of the second takes a new lease.
    await q.take('lease-grant', 1000, 100_000, at);
    expect(Number(await redis.get(quotaKey('lease-grant')))).toBe(62 + 58);
    // A take in the next second hands back the 57 unused calls of the old lease first.
    await q.take('lease-grant', 1000, 100_000, new Date(at.getTime() + 1000));
    expect(Number(await redis.get(quotaKey('lease-grant')))).toBe(63 + 62);
    await q.close();
    expect(Number(await redis.get(quotaKey('lease-grant')))).toBe(64);
  });

  test('what a lease of a past second left unused goes back by itself', async () => {
    const q = new QuotaCounter(redis, prefix, { sweepMs: 100 });
    const day = new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 10);
    // A lease of 62 calls, one of them made (the remaining figure says so).
    expect(await q.take('swept-grant', 1000, 100_000)).toMatchObject({ allowed: true, quotaRemaining: 100_000 - 62 + 61 });
    const key = quotaKey('swept-grant', day);
    await eventually(async () => Number(await redis.get(key)) === 1, 5_000, 'the unused calls to go back');
    await q.close();
  });

  test('many concurrent calls on two replicas: never more than the rate, and all of it usable', async () => {
    const other = new Redis(REDIS_URL);
    const replicas = [new QuotaCounter(redis, prefix, NO_SWEEP), new QuotaCounter(other, prefix, NO_SWEEP)];
    const at = new Date('2026-11-26T03:00:00.100Z');
    const outcomes = await Promise.all(Array.from({ length: 300 }, (_, i) => replicas[i % 2].take('busy-grant', 100, 1_000_000, at)));
    expect(outcomes.filter((o) => o.allowed)).toHaveLength(100);
    expect(outcomes.filter((o) => !o.allowed).every((o) => o.reason === 'rate' && o.resetSeconds === 1)).toBe(true);
    expect(Number(await redis.get(`${prefix}rate:busy-grant:${Math.floor(at.getTime() / 1000)}`))).toBe(100);
    await Promise.all(replicas.map((r) => r.close()));
    other.disconnect();
  });

  test('many concurrent calls on two replicas: never more than the daily quota, to the call', async () => {
    const other = new Redis(REDIS_URL);
    const replicas = [new QuotaCounter(redis, prefix, NO_SWEEP), new QuotaCounter(other, prefix, NO_SWEEP)];
    const at = new Date('2026-11-26T04:00:00.100Z');
    const outcomes = await Promise.all(Array.from({ length: 1200 }, (_, i) => replicas[i % 2].take('daily-grant', 100_000, 1000, at)));
    expect(outcomes.filter((o) => o.allowed)).toHaveLength(1000);
    expect(outcomes.filter((o) => !o.allowed).every((o) => o.reason === 'quota' && o.quotaRemaining === 0)).toBe(true);
    expect(Number(await redis.get(quotaKey('daily-grant')))).toBe(1000);
    await Promise.all(replicas.map((r) => r.close()));
    other.disconnect();
  });
});
