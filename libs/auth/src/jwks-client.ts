import { createPublicKey, type JsonWebKey } from 'node:crypto';
import { MANIFEST_KEY_USE } from './key-store';

export type KeyResolver = (kid: string) => Promise<string | undefined>;

/**
 * Fetches the gateway's JWKS and answers keys by `kid`. An unknown kid triggers a
 * refetch (that is how a rotated-in key is learnt without a restart), at most once
 * per `minRefreshMs` so that tokens with made-up kids cannot hammer the gateway.
 */
export class JwksClient {
  private keys = new Map<string, string>();
  private lastFetch = 0;
  private inflight?: Promise<void>;

  constructor(
    private readonly url: string,
    private readonly minRefreshMs = 5_000,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {}

  resolver(): KeyResolver {
    return (kid) => this.get(kid);
  }

  async get(kid: string): Promise<string | undefined> {
    const known = this.keys.get(kid);
    if (known) return known;
    // Requests that arrive while a fetch is under way wait for it rather than meet the throttle.
    if (this.inflight) {
      await this.inflight.catch(() => undefined);
      const fetched = this.keys.get(kid);
      if (fetched) return fetched;
    }
    if (Date.now() - this.lastFetch >= this.minRefreshMs) await this.refresh();
    return this.keys.get(kid);
  }

  refresh(): Promise<void> {
    this.inflight ??= this.load().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  private async load(): Promise<void> {
    this.lastFetch = Date.now();
    const res = await this.fetchImpl(this.url, { signal: AbortSignal.timeout(3_000) });
    if (!res.ok) throw new Error(`JWKS fetch answered ${res.status}`);
    const body = (await res.json()) as { keys?: (JsonWebKey & { kid?: string; gdx_use?: string })[] };
    const next = new Map<string, string>();
    for (const jwk of body.keys ?? []) {
      // A delivery-manifest key (data-query's) never verifies a token: no service but the gateway mints them.
      if (!jwk.kid || jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519' || jwk.gdx_use === MANIFEST_KEY_USE) continue;
      next.set(jwk.kid, createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'pem' }).toString());
    }
    this.keys = next;
  }
}
