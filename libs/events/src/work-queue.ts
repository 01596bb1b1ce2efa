import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import type { EventLogger } from './envelope';
import { StreamReader } from './stream-reader';

export interface WorkQueueOptions {
  /** The stream of work tickets, e.g. `${prefix}jobs:work`. */
  key: string;
  group: string;
  /** How many tickets this process works on at once: each slot reads one at a time on a connection of its own. */
  slots: number;
  /** A new connection (each slot blocks one); closed by the slot on stop. */
  connect: () => Redis;
  /** A ticket left unacknowledged this long (its worker died or hangs) is taken over by another slot. */
  claimIdleMs: number;
  blockMs?: number;
  /** Works one ticket. Throwing leaves it pending: another slot takes it over after claimIdleMs. */
  handle: (ticket: Record<string, string>) => Promise<void>;
  logger?: EventLogger;
  /** Distinguishes this process's slots from other replicas' (default: host, pid, random). */
  consumer?: string;
}

type Entry = [id: string, fields: string[] | null];

const fieldsOf = (f: string[]) => Object.fromEntries(Array.from({ length: f.length / 2 }, (_, i) => [f[2 * i], f[2 * i + 1]]));

/**
 * Work tickets on a Redis stream read by a consumer group, one ticket per slot at a time:
 * unlike event consumers (batches, in order), tickets are independent units of work that
 * several slots and replicas take in turn, so long work never holds up short work beyond
 * one ticket. A ticket is acknowledged and removed once handled; one whose worker died is
 * claimed by another slot after `claimIdleMs` (XAUTOCLAIM). Handlers must be safe to run
 * twice for one ticket (a slow worker may still be on it when it is claimed).
 */
export class WorkQueue {
  private readonly slots: WorkSlot[] = [];
  private readonly consumer: string;

  constructor(
    private readonly redis: Redis,
    private readonly options: WorkQueueOptions,
  ) {
    this.consumer = options.consumer ?? `${hostname()}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  }

  /** Adds a ticket at the end of the queue. */
  async push(ticket: Record<string, string>): Promise<void> {
    await this.redis.xadd(this.options.key, 'MAXLEN', '~', 100_000, '*', ...Object.entries(ticket).flat());
  }

  start(): void {
    for (let i = 0; i < this.options.slots; i++) {
      const slot = new WorkSlot(this.options, `${this.consumer}-${i}`);
      this.slots.push(slot);
      slot.start();
    }
  }

  async stop(): Promise<void> {
    await Promise.all(this.slots.splice(0).map((s) => s.stop()));
  }
}

class WorkSlot extends StreamReader {
  private groupReady = false;
  private lastClaim = 0;

  constructor(
    private readonly options: WorkQueueOptions,
    private readonly consumer: string,
  ) {
    super(options.connect(), options.logger, `work queue ${options.group}`);
  }

  protected override async step(): Promise<void> {
    const { key, group } = this.options;
    if (!this.groupReady) {
      await this.redis.xgroup('CREATE', key, group, '0', 'MKSTREAM').catch((err: unknown) => {
        if (!String(err).includes('BUSYGROUP')) throw err;
      });
      this.groupReady = true;
    }
    // Orphaned tickets first (a dead worker's), at most one per turn so this slot stays as fair as the others.
    if (Date.now() - this.lastClaim >= Math.min(this.options.claimIdleMs, 1_000)) {
      this.lastClaim = Date.now();
      const [, claimed] = (await this.redis.xautoclaim(key, group, this.consumer, this.options.claimIdleMs, '0-0', 'COUNT', 1)) as [string, Entry[]];
      if (claimed[0]) return this.work(claimed[0]);
    }
    const res = (await this.blocking(() => this.redis.xreadgroup('GROUP', group, this.consumer, 'COUNT', 1, 'BLOCK', this.options.blockMs ?? 2_000, 'STREAMS', key, '>'))) as
      | [string, Entry[]][]
      | null;
    const entry = res?.[0]?.[1][0];
    if (entry) await this.work(entry);
  }

  protected override onFailure(err: unknown): void {
    if (String(err).includes('NOGROUP')) this.groupReady = false;
  }

  private async work([id, fields]: Entry): Promise<void> {
    const { key, group } = this.options;
    if (fields) {
      try {
        await this.options.handle(fieldsOf(fields));
      } catch (err) {
        this.options.logger?.warn({ err, ticket: fieldsOf(fields) }, 'a work ticket failed; it is taken over after the claim timeout');
        return;
      }
    }
    await this.redis.multi().xack(key, group, id).xdel(key, id).exec();
  }
}
