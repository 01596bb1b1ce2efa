import type { Redis } from 'ioredis';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { checkEvent, isEventOf, noticeInEffect, NoticeViewSchema, type NoticeView, type ServiceMode } from '@gdx/contracts';
import { entryEnvelope, streamKey, StreamReader, type EventLogger } from '@gdx/events';

const isNoticeView = TypeCompiler.Compile(NoticeViewSchema);

export interface NoticeCacheOptions {
  /** A connection of its own: XREAD BLOCK holds it. */
  redis: Redis;
  prefix: string;
  loadSnapshot: () => Promise<{ position: string; items: unknown[] }>;
  logger?: EventLogger;
  blockMs?: number;
}

/**
 * The maintenance notices every gateway replica holds (Art. 23): request-approval's
 * snapshot at start, then the `notice` stream read from its position with a plain XREAD,
 * so a notice announced, amended or cancelled reaches every replica within the block
 * time (as grants do). Until the snapshot is in, nothing is refused: a notice is the
 * platform's promise about its own service, not an access rule, so it fails open.
 */
export class NoticeCache extends StreamReader {
  private readonly byId = new Map<string, NoticeView>();
  private position = '0-0';
  private readonly key: string;
  ready = false;
  /** When the last notice event was applied (for tests and metrics). */
  lastAppliedAt = 0;

  constructor(private readonly options: NoticeCacheOptions) {
    super(options.redis, options.logger, 'notice cache');
    this.key = streamKey(options.prefix, 'notice');
  }

  /**
   * The notice whose window is open now for a call to this resource in this mode (the one
   * ending last, when windows overlap), or undefined. A resource notice covers every mode;
   * a service notice every resource of its mode.
   */
  inEffect(mode: ServiceMode | undefined, resourceCode: string | undefined, now = Date.now()): NoticeView | undefined {
    if (this.byId.size === 0) return undefined;
    let found: NoticeView | undefined;
    for (const n of this.byId.values()) {
      if (!noticeInEffect(n, now)) continue;
      const hit = (mode !== undefined && n.services.includes(mode)) || (resourceCode !== undefined && n.resourceCodes.includes(resourceCode));
      if (hit && (!found || n.endsAt > found.endsAt)) found = n;
    }
    return found;
  }

  size(): number {
    return this.byId.size;
  }

  /** Whether any window is open now: the request path asks this first, and most of the time the answer is no. */
  anyInEffect(now = Date.now()): boolean {
    for (const n of this.byId.values()) if (noticeInEffect(n, now)) return true;
    return false;
  }

  apply(view: NoticeView): void {
    const known = this.byId.get(view.id);
    if (known && known.version >= view.version) return;
    this.byId.set(view.id, view);
    this.lastAppliedAt = Date.now();
  }

  protected override async step(): Promise<void> {
    if (!this.ready) {
      const snap = await this.options.loadSnapshot();
      if (typeof snap?.position !== 'string' || !Array.isArray(snap.items)) throw new Error('the notice snapshot is not one: no position or no items');
      for (const item of snap.items) if (isNoticeView.Check(item)) this.apply(item);
      this.position = snap.position;
      this.ready = true;
    }
    const res = await this.blocking(
      () => this.options.redis.xread('COUNT', 100, 'BLOCK', this.options.blockMs ?? 1000, 'STREAMS', this.key, this.position) as Promise<[string, [string, string[]][]][] | null>,
    );
    for (const [, entries] of res ?? []) {
      for (const [id, fields] of entries) {
        this.position = id;
        this.read(fields);
      }
    }
    // Windows over are forgotten; their notices stay readable at request-approval.
    const now = Date.now();
    for (const [id, n] of this.byId) if (Date.parse(n.endsAt) <= now) this.byId.delete(id);
  }

  private read(fields: string[]): void {
    const event = entryEnvelope(fields);
    // What the contracts do not declare tells nothing (the audit consumer dead-letters it).
    if (!event || checkEvent(event) !== undefined) return;
    if (isEventOf(event, 'notice.published', 'notice.amended', 'notice.cancelled')) this.apply(event.data);
  }
}
