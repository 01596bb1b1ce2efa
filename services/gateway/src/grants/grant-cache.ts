import type { Redis } from 'ioredis';
import { isEnvelope, streamKey, StreamReader, type EventLogger } from '@gdx/events';

export type ServiceMode = 'interface' | 'data-call' | 'customization';

/** What the gateway needs of a grant to decide without calling back (request-approval's grant view). */
export interface CachedGrant {
  id: string;
  consumerUnitId: string;
  providerUnitId: string;
  resourceCode: string;
  items: string[];
  modes: ServiceMode[];
  rateLimitPerSecond: number;
  dailyQuota: number;
  validFrom: string;
  validTo: string;
  status: 'active' | 'suspended' | 'revoked' | 'expired';
  version: number;
}

export interface Snapshot {
  position: string;
  items: CachedGrant[];
}

export interface GrantCacheOptions {
  /** A connection of its own: XREAD BLOCK holds it. */
  redis: Redis;
  prefix: string;
  loadSnapshot: () => Promise<Snapshot>;
  logger?: EventLogger;
  blockMs?: number;
}

/**
 * Every gateway replica holds all grants in memory: loaded from request-approval's
 * snapshot at start, then kept current by reading the grant stream from the
 * snapshot's position. A plain XREAD (no consumer group): every replica must see
 * every event, which is how a revocation reaches all of them within milliseconds.
 * Until the snapshot is in, the cache is not ready and queries fail closed.
 */
export class GrantCache extends StreamReader {
  private byId = new Map<string, CachedGrant>();
  private byConsumerResource = new Map<string, CachedGrant[]>();
  private position = '0-0';
  private readonly key: string;
  ready = false;
  /** When the last grant event was applied (for tests and metrics). */
  lastAppliedAt = 0;

  constructor(private readonly options: GrantCacheOptions) {
    super(options.redis, options.logger, 'grant cache');
    this.key = streamKey(options.prefix, 'grant');
  }

  /** Grants of a consumer unit for a resource, in any state. */
  find(consumerUnitId: string, resourceCode: string): CachedGrant[] {
    return this.byConsumerResource.get(`${consumerUnitId}\u0000${resourceCode}`) ?? [];
  }

  get(id: string): CachedGrant | undefined {
    return this.byId.get(id);
  }

  size(): number {
    return this.byId.size;
  }

  apply(g: CachedGrant): void {
    const known = this.byId.get(g.id);
    if (known && known.version >= g.version) return;
    this.byId.set(g.id, g);
    const key = `${g.consumerUnitId}\u0000${g.resourceCode}`;
    const list = (this.byConsumerResource.get(key) ?? []).filter((x) => x.id !== g.id);
    list.push(g);
    this.byConsumerResource.set(key, list);
    this.lastAppliedAt = Date.now();
  }

  protected override async step(): Promise<void> {
    if (!this.ready) {
      const snap = await this.options.loadSnapshot();
      for (const g of snap.items) this.apply(g);
      this.position = snap.position;
      this.ready = true;
    }
    const res = (await this.blocking(() => this.options.redis.xread('COUNT', 500, 'BLOCK', this.options.blockMs ?? 1000, 'STREAMS', this.key, this.position))) as [string, [string, string[]][]][] | null;
    for (const [, entries] of res ?? []) {
      for (const [id, fields] of entries) {
        this.position = id;
        try {
          const e: unknown = JSON.parse(fields[fields.indexOf('event') + 1]);
          if (isEnvelope(e) && e.type.startsWith('grant.') && typeof (e.data as { id?: unknown }).id === 'string') this.apply(e.data as unknown as CachedGrant);
        } catch {
          // not an event: the audit consumer dead-letters it; the cache has nothing to learn
        }
      }
    }
  }
}
