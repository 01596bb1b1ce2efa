import { Client } from 'pg';

export const CHANGES_CHANNEL = 'data_query_changes';

export interface ChangeListenerOptions {
  url: string;
  /** `grant:<id>` or `dataset:<code>`. */
  onChange: (kind: string, id: string) => Promise<void>;
  /** Reload everything: at start, after a reconnect and every `resyncMs`. */
  onResync: () => Promise<void>;
  resyncMs: number;
  logger: { warn(obj: object, msg: string): void };
}

/**
 * Keeps every replica's caches in step. A consumer group hands each grant or
 * resource event to one replica only; that replica writes the table and, in the
 * same transaction, NOTIFYs. Every replica LISTENs and reloads what changed; a
 * periodic full reload covers notifications lost while a connection was down.
 */
export class ChangeListener {
  private client?: Client;
  private timer?: NodeJS.Timeout;
  private retry?: NodeJS.Timeout;
  private running = false;

  constructor(private readonly options: ChangeListenerOptions) {}

  async start(): Promise<void> {
    this.running = true;
    await this.connect();
    await this.options.onResync();
    this.timer = setInterval(() => this.resync(), this.options.resyncMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearInterval(this.timer);
    if (this.retry) clearTimeout(this.retry);
    const c = this.client;
    this.client = undefined;
    await c?.end().catch(() => undefined);
  }

  private resync(): void {
    this.options.onResync().catch((err: unknown) => this.options.logger.warn({ err }, 'cache reload failed; keeping the previous state'));
  }

  private async connect(): Promise<void> {
    const client = new Client({ connectionString: this.options.url, application_name: 'gdx-data-query-listen' });
    client.on('notification', (n) => {
      const [kind, ...rest] = (n.payload ?? '').split(':');
      this.options.onChange(kind, rest.join(':')).catch((err: unknown) => this.options.logger.warn({ err, payload: n.payload }, 'cache update failed; the next reload repairs it'));
    });
    client.on('error', (err) => {
      this.options.logger.warn({ err }, 'change listener lost its connection; reconnecting');
      this.reconnectSoon(client);
    });
    client.on('end', () => this.reconnectSoon(client));
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANGES_CHANNEL}`);
    } catch (err) {
      await client.end().catch(() => undefined);
      throw err;
    }
    this.client = client;
  }

  /** A connection that errored or ended is replaced; notifications missed meanwhile are covered by the resync after reconnecting. */
  private reconnectSoon(dead: Client): void {
    if (this.client !== dead) return;
    this.client = undefined;
    dead.end().catch(() => undefined);
    this.scheduleConnect();
  }

  private scheduleConnect(): void {
    if (!this.running || this.retry) return;
    this.retry = setTimeout(() => {
      this.retry = undefined;
      this.connect()
        .then(() => this.options.onResync())
        .catch(() => this.scheduleConnect());
    }, 1000);
    this.retry.unref();
  }
}
