import type { Redis } from 'ioredis';

/**
 * One round trip per query: the per-second rate window and the daily quota of a
 * grant, counted in Redis so every gateway replica shares them. A refused call
 * is not counted against the quota.
 */
const SCRIPT = `
local rate = redis.call('INCR', KEYS[1])
if rate == 1 then redis.call('PEXPIRE', KEYS[1], 2000) end
if rate > tonumber(ARGV[1]) then return {0, rate, -1} end
local used = redis.call('INCR', KEYS[2])
if used == 1 then redis.call('EXPIRE', KEYS[2], 172800) end
if used > tonumber(ARGV[2]) then redis.call('DECR', KEYS[2]) return {2, rate, used - 1} end
return {1, rate, used}
`;

export interface QuotaDecision {
  allowed: boolean;
  reason?: 'rate' | 'quota';
  rateRemaining: number;
  quotaRemaining: number;
  /** Seconds until the refused limit resets. */
  resetSeconds: number;
}

export class QuotaCounter {
  constructor(private readonly redis: Redis, private readonly prefix: string) {
    redis.defineCommand('gdxQuota', { numberOfKeys: 2, lua: SCRIPT });
  }

  async take(grantId: string, ratePerSecond: number, dailyQuota: number, now = new Date()): Promise<QuotaDecision> {
    const second = Math.floor(now.getTime() / 1000);
    // Quota days follow the city's calendar day (UTC+8).
    const local = new Date(now.getTime() + 8 * 3600_000);
    const day = local.toISOString().slice(0, 10);
    const [code, rate, used] = (await (this.redis as unknown as { gdxQuota: (...a: (string | number)[]) => Promise<number[]> }).gdxQuota(
      `${this.prefix}rate:${grantId}:${second}`,
      `${this.prefix}quota:${grantId}:${day}`,
      ratePerSecond,
      dailyQuota,
    ));
    const endOfDay = Math.ceil((Date.UTC(local.getUTCFullYear(), local.getUTCMonth(), local.getUTCDate() + 1) - local.getTime()) / 1000);
    if (code === 0) return { allowed: false, reason: 'rate', rateRemaining: 0, quotaRemaining: -1, resetSeconds: 1 };
    if (code === 2) return { allowed: false, reason: 'quota', rateRemaining: Math.max(0, ratePerSecond - rate), quotaRemaining: 0, resetSeconds: endOfDay };
    return { allowed: true, rateRemaining: Math.max(0, ratePerSecond - rate), quotaRemaining: Math.max(0, dailyQuota - used), resetSeconds: 1 };
  }
}
