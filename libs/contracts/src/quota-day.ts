/**
 * Grants' daily quotas (calls per day in the interface mode, rows per day in the data-call
 * mode) follow the city's calendar day (UTC+8), wherever a service runs: the gateway and
 * data-query count against the same days.
 */
const CITY_OFFSET_MS = 8 * 3600_000;

let lastDay = { second: -1, day: '' };

/** `2026-12-02`: the quota day of an instant; worked out once per second, not per call. */
export function quotaDay(now: Date): string {
  const second = Math.floor(now.getTime() / 1000);
  if (second !== lastDay.second) lastDay = { second, day: new Date(now.getTime() + CITY_OFFSET_MS).toISOString().slice(0, 10) };
  return lastDay.day;
}

/** Seconds until the next quota day begins (a refusal's Retry-After). */
export function secondsToEndOfQuotaDay(now: Date): number {
  const local = new Date(now.getTime() + CITY_OFFSET_MS);
  return Math.ceil((Date.UTC(local.getUTCFullYear(), local.getUTCMonth(), local.getUTCDate() + 1) - local.getTime()) / 1000);
}
