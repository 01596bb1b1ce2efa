import type { KeyObject } from 'node:crypto';
import { createSigner, createVerifier } from 'fast-jwt';
import { ALGORITHMS } from './auth.plugin';
import type { KeyResolver } from './jwks-client';

/**
 * The gateway's word to the services behind it on internal channels (the interface
 * query batches): a short-lived token signed with the gateway's current signing key,
 * `typ: 'service'`, `sub: 'gateway'`, for a separate audience, so it is never taken
 * for a caller's bearer token (and no caller's token is taken for it). Services verify
 * it through the same JWKS as bearer tokens.
 */
export const SERVICE_TOKEN_HEADER = 'gdx-service-token';
export const SERVICE_AUDIENCE = 'gdx-internal';
const TTL_SECONDS = 120;

export interface ServiceSigningKey {
  kid: string;
  privateKey: KeyObject;
}

/** Issues the gateway's service token, reissuing it when the key changes or it is past half its life. */
export class ServiceTokenIssuer {
  private cached?: { token: string; kid: string; renewAt: number };

  constructor(
    private readonly currentKey: () => ServiceSigningKey,
    private readonly issuer: string,
  ) {}

  token(now = Date.now()): string {
    const key = this.currentKey();
    if (this.cached && this.cached.kid === key.kid && now < this.cached.renewAt) return this.cached.token;
    const sign = createSigner<Record<string, unknown>>({ key: key.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), algorithm: 'EdDSA', kid: key.kid });
    const iat = Math.floor(now / 1000);
    const token = sign({ iss: this.issuer, aud: SERVICE_AUDIENCE, sub: 'gateway', typ: 'service', iat, exp: iat + TTL_SECONDS });
    this.cached = { token, kid: key.kid, renewAt: now + (TTL_SECONDS * 1000) / 2 };
    return token;
  }
}

/** `true` when `header` holds a valid gateway service token; never throws. */
export type ServiceTokenVerifier = (header: string | string[] | undefined) => Promise<boolean>;

export function createServiceTokenVerifier(options: { issuer: string; keyFor: KeyResolver }): ServiceTokenVerifier {
  const verify = createVerifier({
    algorithms: [...ALGORITHMS],
    allowedIss: options.issuer,
    allowedAud: SERVICE_AUDIENCE,
    allowedSub: 'gateway',
    requiredClaims: ['exp', 'iss', 'aud', 'sub'],
    cache: 100,
    errorCacheTTL: 0,
    key: async (decoded: { header?: { kid?: unknown } }) => {
      const kid = decoded.header?.kid;
      const key = typeof kid === 'string' && kid ? await options.keyFor(kid) : undefined;
      if (!key) throw new Error('unknown key');
      return key;
    },
  });
  return async (header) => {
    if (typeof header !== 'string' || !header) return false;
    try {
      const claims = (await verify(header)) as Record<string, unknown>;
      return claims.typ === 'service';
    } catch {
      return false;
    }
  };
}
