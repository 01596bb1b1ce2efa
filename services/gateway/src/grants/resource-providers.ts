import type { Redis } from 'ioredis';
import { checkEvent, EVENT_TYPES, isEnvelope, isEventOf, type EventType } from '@gdx/contracts';
import { streamKey, StreamReader, type EventLogger } from '@gdx/events';

type ResourceEventType = Extract<EventType, `resource.${string}`>;
const RESOURCE_EVENT_TYPES = EVENT_TYPES.filter((t): t is ResourceEventType => t.startsWith('resource.'));

/**
 * Which unit provides each resource, as the catalogue's `resource.*` events say: the
 * gateway's refusals name the provider even when the caller holds no grant for the
 * resource (NO_GRANT), so the provider sees them on its trail. Every replica reads
 * the whole resource stream (a plain XREAD from the start: resources are few, and
 * every event carries the whole resource view).
 */
export class ResourceProviders extends StreamReader {
  private readonly providers = new Map<string, string>();
  private position = '0-0';
  private readonly key: string;

  constructor(
    redis: Redis,
    prefix: string,
    logger?: EventLogger,
    private readonly blockMs = 1000,
  ) {
    super(redis, logger, 'resource providers');
    this.key = streamKey(prefix, 'resource');
  }

  /** The provider unit of a resource code, when the catalogue has announced the resource. */
  providerOf(code: string): string | undefined {
    return this.providers.get(code);
  }

  protected override async step(): Promise<void> {
    const res = await this.blocking(() => this.redis.xread('COUNT', 500, 'BLOCK', this.blockMs, 'STREAMS', this.key, this.position) as Promise<[string, [string, string[]][]][] | null>);
    for (const [, entries] of res ?? []) {
      for (const [id, fields] of entries) {
        this.position = id;
        let event: unknown;
        try {
          event = JSON.parse(fields[fields.indexOf('event') + 1]);
        } catch {
          continue;
        }
        // What the contracts do not declare tells nothing (the audit consumer dead-letters it).
        if (checkEvent(event) === undefined && isEnvelope(event) && isEventOf(event, ...RESOURCE_EVENT_TYPES)) this.providers.set(event.data.code, event.data.providerUnitId);
      }
    }
  }
}
