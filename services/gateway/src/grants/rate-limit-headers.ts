import { TooManyRequestsError } from '@gdx/errors';
import type { CachedGrant } from './grant-cache';
import type { QuotaDecision } from './quota';

type Limits = Pick<CachedGrant, 'rateLimitPerSecond' | 'dailyQuota'>;

/**
 * The RateLimit-* headers of a quota answer: the daily quota's once it is used up,
 * otherwise the per-second rate's (the limit a busy caller meets first).
 */
export function rateLimitHeaders(q: QuotaDecision, g: Limits): Record<string, string> {
  return q.reason === 'quota'
    ? { 'ratelimit-limit': String(g.dailyQuota), 'ratelimit-remaining': '0', 'ratelimit-reset': String(q.resetSeconds) }
    : { 'ratelimit-limit': String(g.rateLimitPerSecond), 'ratelimit-remaining': String(q.rateRemaining), 'ratelimit-reset': String(q.resetSeconds) };
}

/** The 429 of a refused quota answer: Retry-After says when the refused limit resets, with the RateLimit-* headers. */
export function quotaRefusal(q: QuotaDecision, g: Limits): TooManyRequestsError {
  return q.reason === 'quota'
    ? new TooManyRequestsError(`The grant's daily quota of ${g.dailyQuota} calls is used up.`, q.resetSeconds, rateLimitHeaders(q, g), 'QUOTA_EXCEEDED')
    : new TooManyRequestsError(`The grant allows ${g.rateLimitPerSecond} calls per second.`, q.resetSeconds, rateLimitHeaders(q, g), 'RATE_LIMITED');
}
