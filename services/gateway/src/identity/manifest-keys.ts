import type { FastifyBaseLogger } from 'fastify';
import type { Jwk } from '@gdx/auth';
import { MANIFEST_KEYS_PATH } from '@gdx/contracts';

/**
 * data-query's delivery-manifest keys (it signs push deliveries), followed from its
 * `/.well-known/manifest-keys.json` so that the platform's one JWKS verifies every manifest.
 * Refreshed every `refreshMs`; while data-query does not answer, the last keys learnt stay.
 */
export class ManifestKeys {
  private keys: Jwk[] = [];
  private timer?: NodeJS.Timeout;
  private lastTry = 0;

  constructor(
    private readonly dataQueryUrl: string,
    private readonly refreshMs: number,
    private readonly log: FastifyBaseLogger,
  ) {}

  /** The keys learnt; none yet (data-query started after the gateway) asks again, at most once a second. */
  async current(): Promise<Jwk[]> {
    if (!this.keys.length && Date.now() - this.lastTry >= 1_000) await this.refresh();
    return this.keys;
  }

  async refresh(): Promise<void> {
    this.lastTry = Date.now();
    try {
      const res = await fetch(`${this.dataQueryUrl}${MANIFEST_KEYS_PATH}`, { signal: AbortSignal.timeout(3_000) });
      if (!res.ok) throw new Error(`answered ${res.status}`);
      const body = (await res.json()) as { keys?: Jwk[] };
      // Only keys marked as manifest keys: whatever else it answered never joins the token keys.
      this.keys = (body.keys ?? []).filter((k) => k.gdx_use === 'manifest' && k.kty === 'OKP' && k.crv === 'Ed25519' && typeof k.kid === 'string' && typeof k.x === 'string');
    } catch (err) {
      this.log.debug({ err }, 'manifest keys not refreshed; the last ones stay');
    }
  }

  start(): void {
    void this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.refreshMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
