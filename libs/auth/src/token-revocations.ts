import fp from 'fastify-plugin';
import type { Redis } from 'ioredis';
import { checkEvent, isEnvelope, isEventOf } from '@gdx/contracts';
import { streamKey, StreamReader, type EventLogger } from '@gdx/events';

/**
 * Which subjects' tokens are revoked: subject (account or client id) → the instant (ms,
 * the gateway's clock) before which its tokens are refused. A disabled account, a revoked
 * client and a password change move that instant to "now"; the token's own issue time
 * (`iat_ms`, else `iat`) is compared with it on every request, remembered tokens included.
 */
export class TokenRevocations {
  private notBefore = new Map<string, number>();
  /** False while a feed is catching up: tokens are refused (503) rather than trusted blindly. */
  ready = true;
  /** When the last revocation was applied (for tests and metrics). */
  lastAppliedAt = 0;

  revoke(subject: string, notBeforeMs: number): void {
    if ((this.notBefore.get(subject) ?? -Infinity) >= notBeforeMs) return;
    this.notBefore.set(subject, notBeforeMs);
    this.lastAppliedAt = Date.now();
  }

  isRevoked(subject: string, issuedAtMs: number): boolean {
    const nb = this.notBefore.get(subject);
    return nb !== undefined && issuedAtMs < nb;
  }

  size(): number {
    return this.notBefore.size;
  }
}

export interface RevocationFeedOptions {
  /** A connection of its own: XREAD BLOCK holds it. */
  redis: Redis;
  prefix: string;
  /**
   * How far back the feed starts: longer than any token lives (the gateway's token TTL is
   * an hour), so a revocation older than that concerns only expired tokens. Default 24 h.
   */
  lookbackMs?: number;
  blockMs?: number;
  logger?: EventLogger;
}

const REVOKING = ['account.updated', 'account.password_changed', 'client.revoked', 'client.updated'] as const;

/**
 * Keeps a TokenRevocations current from the `account` and `client` streams with a plain
 * XREAD (no consumer group: every replica of every service sees every event, as the
 * gateway's grant cache does). At start it replays the streams from `lookbackMs` ago, which
 * is the whole state that matters (stream ids are times); until that replay is in, the view
 * is not ready and tokens are refused.
 */
export class RevocationFeed extends StreamReader {
  private readonly keys: string[];
  private positions: string[];

  constructor(
    readonly view: TokenRevocations,
    private readonly options: RevocationFeedOptions,
  ) {
    super(options.redis, options.logger, 'token revocation feed');
    this.keys = [streamKey(options.prefix, 'account'), streamKey(options.prefix, 'client')];
    const from = `${Math.max(0, Date.now() - (options.lookbackMs ?? 86_400_000))}-0`;
    this.positions = [from, from];
    view.ready = false;
  }

  /** Resolves once the start-up replay is in (or after `timeoutMs`, not ready then). */
  async caughtUp(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.view.ready && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    return this.view.ready;
  }

  protected override async step(): Promise<void> {
    const count = 500;
    const block = this.view.ready ? ['BLOCK', String(this.options.blockMs ?? 1000)] : [];
    const res = (await this.blocking(() => this.redis.call('XREAD', 'COUNT', String(count), ...block, 'STREAMS', ...this.keys, ...this.positions))) as [string, [string, string[]][]][] | null;
    let full = false;
    for (const [key, entries] of res ?? []) {
      const i = this.keys.indexOf(key);
      if (entries.length >= count) full = true;
      for (const [id, fields] of entries) {
        if (i >= 0) this.positions[i] = id;
        this.read(fields);
      }
    }
    if (!this.view.ready && !full) this.view.ready = true;
  }

  private read(fields: string[]): void {
    let event: unknown;
    try {
      event = JSON.parse(fields[fields.indexOf('event') + 1]);
    } catch {
      return;
    }
    if (checkEvent(event) || !isEnvelope(event) || !isEventOf(event, ...REVOKING)) return;
    const at = Date.parse(event.occurredAt);
    if (isEventOf(event, 'account.updated')) {
      if (event.data.notBefore !== undefined) this.view.revoke(event.subject, event.data.notBefore);
      else if (event.data.status !== 'active' && Number.isFinite(at)) this.view.revoke(event.subject, at);
      return;
    }
    if (isEventOf(event, 'client.updated')) {
      if (event.data.notBefore !== undefined) this.view.revoke(event.subject, event.data.notBefore);
      return;
    }
    const nb = event.data.notBefore ?? at;
    if (Number.isFinite(nb)) this.view.revoke(event.subject, nb);
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The subjects whose older tokens are refused (see TokenRevocations). */
    tokenRevocations: TokenRevocations;
  }
}

/**
 * Registered after the auth plugin in each service's app.ts: follows the account and client
 * streams into `app.tokenRevocations` from start to close; the service is ready (listens
 * with the view in) once the replay is done or after `catchUpMs` (then tokens answer 503
 * until it is).
 */
export const revocationFeedPlugin = fp<Omit<RevocationFeedOptions, 'logger'> & { catchUpMs?: number }>(
  async (app, options) => {
    const feed = new RevocationFeed(app.tokenRevocations, { ...options, logger: app.log.child({ component: 'token-revocations' }) });
    app.addHook('onReady', async () => {
      feed.start();
      if (!(await feed.caughtUp(options.catchUpMs ?? 5_000))) app.log.warn('token revocations not loaded yet; tokens are refused until they are');
    });
    app.addHook('onClose', async () => feed.stop());
  },
  { name: 'gdx-token-revocations', fastify: '5.x', dependencies: ['gdx-auth'] },
);
