import type { Redis } from 'ioredis';
import type { EventLogger } from './envelope';

/**
 * The life of a loop that blocks on a Redis connection of its own (XREADGROUP or
 * XREAD BLOCK): start, one step at a time with a growing back-off while Redis is
 * away, and a stop that interrupts the blocking read or the back-off at once,
 * lets the step in hand finish, and closes the connection.
 */
export abstract class StreamReader {
  protected running = false;
  private loop?: Promise<void>;
  private blocked = false;
  private wake?: () => void;

  constructor(
    protected readonly redis: Redis,
    protected readonly logger: EventLogger | undefined,
    private readonly what: string,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    // Disconnect once: a second disconnect of a closed connection leaves a 2 s timer behind.
    const up = this.redis.status === 'ready';
    const interrupted = this.blocked || !up;
    if (interrupted) this.redis.disconnect();
    this.wake?.();
    if (up) await this.loop;
    else {
      // A connection that is not up keeps its commands queued until Redis is back, and a disconnect
      // while it waits to reconnect does not fail them: the step in hand is given a moment, then left
      // behind (its command never left), or a service started without Redis could never shut down.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.loop, new Promise((resolve) => (timer = setTimeout(resolve, 2_000)))]);
      clearTimeout(timer);
    }
    if (!interrupted) this.redis.disconnect();
  }

  /** One turn of the loop; throwing means "retry after a back-off". */
  protected abstract step(): Promise<void>;

  /** Runs a blocking command so that stop() can cut it short. */
  protected async blocking<T>(command: () => Promise<T>): Promise<T> {
    this.blocked = true;
    try {
      return await command();
    } finally {
      this.blocked = false;
    }
  }

  /** Called with each failure before the back-off (e.g. to notice that Redis lost its data). */
  protected onFailure(_err: unknown): void {}

  private async run(): Promise<void> {
    let failures = 0;
    while (this.running) {
      try {
        await this.step();
        failures = 0;
      } catch (err) {
        if (!this.running) break;
        this.onFailure(err);
        failures++;
        // One line per outage, not one per retry.
        if (failures === 1) this.logger?.warn({ err }, `${this.what} cannot read; will retry`);
        await this.pause(Math.min(2_000, 50 * 2 ** Math.min(failures, 6)));
      }
    }
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }
}
