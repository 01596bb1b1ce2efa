import type { Redis } from 'ioredis';
import { quotaDay, secondsToEndOfQuotaDay } from '@gdx/contracts';

/**
 * The data-call mode's daily quota counts rows (and tombstones) delivered per grant and
 * quota day, in Redis so every replica counts against the same figure. A pull takes rows
 * chunk by chunk as it sends them; the rows a chunk could not take end the pull (it can be
 * resumed from its last cursor the next day).
 */
export class RowQuota {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  private key(grantId: string, now: Date): string {
    return `${this.prefix}rows:${grantId}:${quotaDay(now)}`;
  }

  /** Rows left today, and seconds until the quota resets. */
  async remaining(grantId: string, quota: number, now = new Date()): Promise<{ remaining: number; resetSeconds: number }> {
    const used = Number((await this.redis.get(this.key(grantId, now))) ?? 0);
    return { remaining: Math.max(0, quota - used), resetSeconds: secondsToEndOfQuotaDay(now) };
  }

  /** Takes up to `n` rows; answers how many it got (fewer when the day's quota runs out). */
  async take(grantId: string, n: number, quota: number, now = new Date()): Promise<number> {
    if (n <= 0) return 0;
    const key = this.key(grantId, now);
    const [[, total]] = (await this.redis
      .multi()
      .incrby(key, n)
      .expire(key, 2 * 86_400)
      .exec()) as [[Error | null, number], unknown];
    if (total <= quota) return n;
    // What this take went over is given back, so the counter says what was delivered.
    const over = Math.min(n, total - quota);
    await this.redis.decrby(key, over);
    return n - over;
  }

  /** Gives back rows taken but not delivered (a chunk that came back short). */
  async refund(grantId: string, n: number, now = new Date()): Promise<void> {
    if (n > 0) await this.redis.decrby(this.key(grantId, now), n);
  }
}
