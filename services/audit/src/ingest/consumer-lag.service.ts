import type { Redis } from 'ioredis';
import { Gauge, type Registry } from 'prom-client';
import { deadLetterKey, streamKey } from '@gdx/events';

export interface StreamLag {
  stream: string;
  /** Entries not yet delivered to the group. */
  lag: number;
  /** Delivered, not yet acknowledged. */
  pending: number;
}

export interface LagSnapshot {
  streams: StreamLag[];
  totalLag: number;
  totalPending: number;
  deadLetters: number;
}

/**
 * How far the audit group is behind on every stream it reads, from Redis itself:
 * XINFO GROUPS gives `lag` (Redis 7); when Redis cannot tell it (entries deleted
 * in the middle of the stream) it is worked out from entries-added minus
 * entries-read. Exposed on /metrics and behind readiness: a replica that falls too
 * far behind is taken out of rotation before the lag turns into lost time.
 */
export class ConsumerLagService {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly domains: readonly string[],
    private readonly group: string,
  ) {}

  async snapshot(): Promise<LagSnapshot> {
    const keys = this.domains.map((d) => streamKey(this.prefix, d));
    const pipeline = this.redis.pipeline();
    for (const key of keys) {
      pipeline.xinfo('GROUPS', key);
      pipeline.xinfo('STREAM', key);
    }
    pipeline.xlen(deadLetterKey(this.prefix));
    const results = (await pipeline.exec()) ?? [];
    const streams: StreamLag[] = keys.map((stream, i) => {
      const [groupsErr, groups] = results[i * 2] ?? [];
      const [streamErr, info] = results[i * 2 + 1] ?? [];
      // No stream yet: nothing was ever published on it, so nothing is behind.
      if (groupsErr || streamErr) return { stream, lag: 0, pending: 0 };
      const group = (groups as unknown[][]).map(toObject).find((g) => g.name === this.group);
      const added = Number(toObject(info as unknown[])['entries-added'] ?? 0);
      // No group yet: everything ever added is waiting.
      if (!group) return { stream, lag: added, pending: 0 };
      const lag = group.lag === null || group.lag === undefined ? Math.max(0, added - Number(group['entries-read'] ?? 0)) : Number(group.lag);
      return { stream, lag, pending: Number(group.pending ?? 0) };
    });
    const [dlErr, deadLetters] = results[keys.length * 2] ?? [];
    return {
      streams,
      totalLag: streams.reduce((n, s) => n + s.lag, 0),
      totalPending: streams.reduce((n, s) => n + s.pending, 0),
      deadLetters: dlErr ? 0 : Number(deadLetters ?? 0),
    };
  }

  /** Gauges read on each scrape. */
  register(registry: Registry): void {
    const snapshotForScrape = () => this.snapshot();
    let inflight: Promise<LagSnapshot> | undefined;
    // One Redis round per scrape, shared by the three gauges.
    const shared = () => (inflight ??= snapshotForScrape().finally(() => setTimeout(() => (inflight = undefined), 0)));
    new Gauge({
      name: 'audit_consumer_lag',
      help: 'Events on each audited stream not yet read by the audit group',
      labelNames: ['stream'] as const,
      registers: [registry],
      async collect() {
        const s = await shared();
        for (const x of s.streams) this.set({ stream: x.stream }, x.lag);
      },
    });
    new Gauge({
      name: 'audit_consumer_pending',
      help: 'Events read by the audit group but not yet acknowledged',
      labelNames: ['stream'] as const,
      registers: [registry],
      async collect() {
        const s = await shared();
        for (const x of s.streams) this.set({ stream: x.stream }, x.pending);
      },
    });
    new Gauge({
      name: 'audit_dead_letters',
      help: 'Entries in the platform dead-letter stream',
      registers: [registry],
      async collect() {
        this.set((await shared()).deadLetters);
      },
    });
  }
}

/** Redis answers XINFO with flat [name, value, name, value, ...] arrays. */
function toObject(flat: unknown[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[String(flat[i])] = flat[i + 1];
  return out;
}
