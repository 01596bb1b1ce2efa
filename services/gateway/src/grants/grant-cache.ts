import type { Redis } from 'ioredis';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { checkEvent, decidable, EVENT_TYPES, GrantViewSchema, isEnvelope, isEventOf, RowFilterSchema, type DecidableGrant, type EventType, type GrantView } from '@gdx/contracts';
import { streamKey, StreamReader, type EventLogger } from '@gdx/events';

/**
 * A grant as the gateway holds it: prepared once for the one decision, plus what
 * routing, the quota counter and the audit trail read of it. Built from the grant
 * view request-approval publishes (snapshot items and `grant.*` event data).
 */
export type CachedGrant = DecidableGrant & Pick<GrantView, 'consumerUnitId' | 'providerUnitId' | 'resourceCode' | 'rateLimitPerSecond' | 'dailyQuota' | 'version'>;

export function cachedGrant(g: GrantView): CachedGrant {
  return {
    ...decidable(g),
    consumerUnitId: g.consumerUnitId,
    providerUnitId: g.providerUnitId,
    resourceCode: g.resourceCode,
    rateLimitPerSecond: g.rateLimitPerSecond,
    dailyQuota: g.dailyQuota,
    version: g.version,
  };
}

/** What the cache reads of request-approval's `GET /api/v1/grants/snapshot`. */
export interface Snapshot {
  position: string;
  items: unknown[];
}

/** Every event on the grant stream carries the whole grant; a grant event type added to the catalogue is applied too. */
type GrantEventType = Extract<EventType, `grant.${string}`>;
const GRANT_EVENT_TYPES = EVENT_TYPES.filter((t): t is GrantEventType => t.startsWith('grant.'));

const isGrantView = TypeCompiler.Compile(GrantViewSchema, [RowFilterSchema]);

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
 * Grants that are no longer active (revoked, superseded, ...) stay, with their
 * state: the decision ignores them but names their state to the caller.
 */
export class GrantCache extends StreamReader {
  private byId = new Map<string, CachedGrant>();
  private byConsumerResource = new Map<string, CachedGrant[]>();
  private position = '0-0';
  private readonly key: string;
  ready = false;
  /** When the last grant event was applied (for tests and metrics). */
  lastAppliedAt = 0;
  /** When the stream last answered (a read returns at least every blockMs): how current the cache is known to be. */
  lastReadAt = 0;
  /**
   * Snapshot items and stream entries skipped as not what the contracts declare.
   * Without a consumer group this reader cannot dead-letter them; the audit
   * consumer, which reads the same stream in a group, does.
   */
  skipped = 0;

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

  /** Takes in a grant view, unless the cache already holds the same or a later version of it. */
  apply(view: GrantView): void {
    const known = this.byId.get(view.id);
    if (known && known.version >= view.version) return;
    const g = cachedGrant(view);
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
      if (typeof snap?.position !== 'string' || !Array.isArray(snap.items)) throw new Error('the grant snapshot is not one: no position or no items');
      for (const item of snap.items) {
        if (isGrantView.Check(item)) this.apply(item);
        else this.skip(`snapshot item is not a grant view: ${describeFirstError(item)}`, { grantId: (item as { id?: unknown } | null)?.id });
      }
      this.position = snap.position;
      this.ready = true;
    }
    const res = await this.blocking(
      () => this.options.redis.xread('COUNT', 500, 'BLOCK', this.options.blockMs ?? 1000, 'STREAMS', this.key, this.position) as Promise<[string, [string, string[]][]][] | null>,
    );
    for (const [, entries] of res ?? []) {
      for (const [id, fields] of entries) {
        this.position = id;
        this.read(id, fields);
      }
    }
    this.lastReadAt = Date.now();
  }

  private read(entryId: string, fields: string[]): void {
    let event: unknown;
    try {
      event = JSON.parse(fields[fields.indexOf('event') + 1]);
    } catch {
      return this.skip('not JSON', { entryId });
    }
    const invalid = checkEvent(event);
    if (invalid) return this.skip(invalid, { entryId });
    // Other declared types on this stream tell the cache nothing.
    if (isEnvelope(event) && isEventOf(event, ...GRANT_EVENT_TYPES)) this.apply(event.data);
  }

  private skip(reason: string, context: Record<string, unknown>): void {
    this.skipped++;
    this.options.logger?.warn({ ...context, reason }, 'grant cache skipped what is not a declared grant');
  }
}

function describeFirstError(item: unknown): string {
  const first = isGrantView.Errors(item).First();
  return first ? `${first.path || '/'}: ${first.message}` : 'invalid';
}
