import { randomUUID } from 'node:crypto';
import { createSigner } from 'fast-jwt';
import type { AccessTokenClaims, Role } from '@gdx/auth';
import type { KeyStore } from '@gdx/auth';

export interface IssuedToken {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  scope?: string;
}

/** Signs access tokens (RFC 9068 shape) with the key store's current key. */
export class TokenService {
  private signers = new Map<string, (payload: Record<string, unknown>) => string>();

  constructor(
    private readonly keys: KeyStore,
    private readonly options: { issuer: string; audience: string; ttlSeconds: number },
  ) {}

  issue(subject: { kind: 'account' | 'client'; id: string; unitId: string; roles: Role[]; scopes?: string[] }, now = Date.now()): IssuedToken & { jti: string } {
    const key = this.keys.current();
    let sign = this.signers.get(key.kid);
    if (!sign) {
      sign = createSigner<Record<string, unknown>>({
        key: key.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
        algorithm: 'EdDSA',
        kid: key.kid,
        header: { alg: 'EdDSA', typ: 'at+jwt' },
      });
      this.signers.set(key.kid, sign);
    }
    const iat = Math.floor(now / 1000);
    const issuedAtMs = Math.floor(now);
    const claims: AccessTokenClaims = {
      iss: this.options.issuer,
      aud: this.options.audience,
      sub: subject.id,
      iat,
      iat_ms: issuedAtMs,
      exp: iat + this.options.ttlSeconds,
      jti: randomUUID(),
      typ: subject.kind,
      unit: subject.unitId,
      roles: subject.roles,
      ...(subject.scopes?.length ? { scope: subject.scopes.join(' ') } : {}),
    };
    return {
      access_token: sign(claims as unknown as Record<string, unknown>),
      token_type: 'Bearer',
      expires_in: this.options.ttlSeconds,
      jti: claims.jti,
      ...(claims.scope ? { scope: claims.scope } : {}),
    };
  }
}
