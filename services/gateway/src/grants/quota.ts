import type { Redis } from 'ioredis';
import { quotaDay, secondsToEndOfQuotaDay } from '@gdx/contracts';

/**
 * Takes a lease of `n` calls at once from a grant's per-second window and daily
 * quota, after handing back what the previous lease of the same day left unused.
 * A lease is a small share of what is left (a sixteenth of the second's rate, a
 * sixty-fourth of the day's quota, at most ARGV[3]), so that other replicas still
 * find calls to lease and the last calls of a window or a day go one at a time.
 * A refused take changes nothing.
 */
const SCRIPT = `
local limit = tonumber(ARGV[1])
local quota = tonumber(ARGV[2])
local refund = tonumber(ARGV[4])
if refund > 0 and redis.call('EXISTS', KEYS[2]) == 1 then redis.call('DECRBY', KEYS[2], refund) end
local rate = tonumber(redis.call('GET', KEYS[1]) or '0')
if rate >= limit then return {0, rate, -1, 0} end
local used = tonumber(redis.call('GET', KEYS[2]) or '0')
if used >= quota then return {2, rate, used, 0} end
local n = math.min(tonumber(ARGV[3]), math.max(1, math.floor((limit - rate) / 16)), math.max(1, math.floor((quota - used) / 64)))
rate = redis.call('INCRBY', KEYS[1], n)
if rate == n then redis.call('PEXPIRE', KEYS[1], 2000) end
used = redis.call('INCRBY', KEYS[2], n)
if used == n then redis.call('EXPIRE', KEYS[2], 172800) end
return {1, rate, used, n}
`;

export interface QuotaDecision {
  allowed: boolean;
  reason?: 'rate' | 'quota';
  rateRemaining: number;
  quotaRemaining: number;
  /** Seconds until the refused limit resets. */
  resetSeconds: number;
}

interface Lease {
  second: number;
  day: string;
  /** Calls of this lease not yet made. */
  left: number;
  /** The shared counters right after the lease was taken. */
  rateAfter: number;
  usedAfter: number;
}

interface GrantState {
  lease?: Lease;
  /** A take refused in this second answers every call of the same second without asking again. */
  refused?: { second: number; day: string; decision: QuotaDecision };
  acquiring?: Promise<QuotaDecision | undefined>;
}

type QuotaScript = (rateKey: string, quotaKey: string, rate: number, quota: number, maxLease: number, refund: number) => Promise<number[]>;

/**
 * The per-second rate window and the daily quota of a grant, counted in Redis so
 * every gateway replica shares them. A replica does not ask Redis for every call:
 * it leases a few calls at a time (at most `maxLease`, fewer as the window or the
 * quota runs low, one at a time at the end) and counts them down in memory, so
 * under load one round trip serves many calls. Neither limit is ever exceeded:
 * every call made was counted in Redis before it was made. A lease lives for its
 * second; calls it left unused go back to the day's quota with the next take and
 * every second in the background. What this costs is fairness at the edge: a
 * replica may be refused in a second while another still holds calls of it.
 * A refused call is not counted against the quota.
 */
export class QuotaCounter {
  private readonly grants = new Map<string, GrantState>();
  private readonly script: QuotaScript;
  private readonly sweeper?: NodeJS.Timeout;
  private readonly maxLease: number;

  /** `sweepMs: 0` turns the background hand-back off (tests that take with a clock of their own). */
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    options: { maxLease?: number; sweepMs?: number } = {},
  ) {
    this.maxLease = options.maxLease ?? 64;
    redis.defineCommand('gdxQuotaLease', { numberOfKeys: 2, lua: SCRIPT });
    this.script = (redis as unknown as { gdxQuotaLease: QuotaScript }).gdxQuotaLease.bind(redis);
    const sweepMs = options.sweepMs ?? 1000;
    if (sweepMs > 0) {
      this.sweeper = setInterval(() => void this.returnUnused(Math.floor(Date.now() / 1000)), sweepMs);
      this.sweeper.unref();
    }
  }

  async take(grantId: string, ratePerSecond: number, dailyQuota: number, now = new Date()): Promise<QuotaDecision> {
    const second = Math.floor(now.getTime() / 1000);
    const day = quotaDay(now);
    let state = this.grants.get(grantId);
    if (!state) {
      state = {};
      this.grants.set(grantId, state);
    }
    for (;;) {
      const lease = state.lease;
      if (lease && lease.second === second && lease.day === day && lease.left > 0) {
        lease.left--;
        return {
          allowed: true,
          rateRemaining: Math.max(0, ratePerSecond - lease.rateAfter) + lease.left,
          quotaRemaining: Math.max(0, dailyQuota - lease.usedAfter) + lease.left,
          resetSeconds: 1,
        };
      }
      if (state.refused && state.refused.second === second && state.refused.day === day) return state.refused.decision;
      // Calls that find no lease share one take; then each tries the new lease.
      const s = state;
      s.acquiring ??= this.acquire(grantId, s, second, day, ratePerSecond, dailyQuota, now).finally(() => {
        s.acquiring = undefined;
      });
      const refusal = await s.acquiring;
      if (refusal) return refusal;
    }
  }

  /** Hands back what leases of past seconds left unused (and, on close, all of them). */
  async returnUnused(beforeSecond = Number.POSITIVE_INFINITY): Promise<void> {
    const refunds: [string, number][] = [];
    for (const [grantId, state] of this.grants) {
      const lease = state.lease;
      if (!lease || state.acquiring || lease.second >= beforeSecond) continue;
      if (lease.left > 0) refunds.push([`${this.prefix}quota:${grantId}:${lease.day}`, lease.left]);
      state.lease = undefined;
    }
    if (!refunds.length) return;
    const pipeline = this.redis.pipeline();
    // DECRBY only a counter that still exists: a lapsed day must not come back negative.
    for (const [key, n] of refunds) pipeline.eval("if redis.call('EXISTS', KEYS[1]) == 1 then return redis.call('DECRBY', KEYS[1], ARGV[1]) end return 0", 1, key, n);
    await pipeline.exec().catch(() => undefined);
  }

  async close(): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper);
    await this.returnUnused();
  }

  private async acquire(grantId: string, state: GrantState, second: number, day: string, ratePerSecond: number, dailyQuota: number, now: Date): Promise<QuotaDecision | undefined> {
    const previous = state.lease;
    const refund = previous && previous.day === day ? previous.left : 0;
    state.lease = undefined;
    let result: number[];
    try {
      result = await this.script(`${this.prefix}rate:${grantId}:${second}`, `${this.prefix}quota:${grantId}:${day}`, ratePerSecond, dailyQuota, this.maxLease, refund);
    } catch (err) {
      // Kept, so that what it left is handed back by a later take or the sweep.
      state.lease = previous;
      throw err;
    }
    const [code, rate, used, n] = result;
    if (code === 1) {
      state.lease = { second, day, left: n, rateAfter: rate, usedAfter: used };
      state.refused = undefined;
      return undefined;
    }
    const decision: QuotaDecision =
      code === 0
        ? { allowed: false, reason: 'rate', rateRemaining: 0, quotaRemaining: -1, resetSeconds: 1 }
        : { allowed: false, reason: 'quota', rateRemaining: Math.max(0, ratePerSecond - rate), quotaRemaining: 0, resetSeconds: secondsToEndOfQuotaDay(now) };
    state.refused = { second, day, decision };
    return decision;
  }
}
