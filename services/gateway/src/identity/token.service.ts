import { randomUUID } from 'node:crypto';
import { CurrentKeySigner, type AccessTokenClaims, type KeyStore, type Role } from '@gdx/auth';

export interface IssuedToken {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  scope?: string;
}

/** Signs access tokens (RFC 9068 shape) with the key store's current key. */
export class TokenService {
  private readonly signer: CurrentKeySigner;

  constructor(
    keys: KeyStore,
    private readonly options: { issuer: string; audience: string; ttlSeconds: number },
  ) {
    this.signer = new CurrentKeySigner(keys, 'at+jwt');
  }

  issue(subject: { kind: 'account' | 'client'; id: string; unitId: string; roles: Role[]; scopes?: string[] }, now = Date.now()): IssuedToken & { jti: string } {
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
      access_token: this.signer.sign(claims as unknown as Record<string, unknown>),
      token_type: 'Bearer',
      expires_in: this.options.ttlSeconds,
      jti: claims.jti,
      ...(claims.scope ? { scope: claims.scope } : {}),
    };
  }
}
