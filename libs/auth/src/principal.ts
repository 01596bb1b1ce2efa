import { ForbiddenError } from '@gdx/errors';

export const ROLES = ['office_admin', 'office_auditor', 'unit_admin', 'unit_operator', 'client'] as const;
export type Role = (typeof ROLES)[number];

/** What a unit admin may let a business-system client do beyond reading (§2); the token's `scope` claim. */
export const CLIENT_SCOPES = ['data:submit'] as const;
export type ClientScope = (typeof CLIENT_SCOPES)[number];

/** Who is calling, as the token says. Services decide what that caller may see. */
export interface Principal {
  kind: 'account' | 'client';
  /** The account or client id (the token's `sub`). */
  subject: string;
  unitId: string;
  roles: Role[];
  /** The token's id, for the audit trail. */
  tokenId?: string;
  /** When the token was issued (ms): `iat_ms`, else `iat` × 1000; checked against revocations. */
  issuedAt?: number;
  /** A client's scopes (the token's space-separated `scope`), e.g. `data:submit`. */
  scopes?: ClientScope[];
}

/** The claims the gateway puts in every access token. */
export interface AccessTokenClaims {
  iss: string;
  aud: string;
  sub: string;
  exp: number;
  iat: number;
  /** `iat` to the millisecond, so a revocation and a token issued in the same second are told apart. */
  iat_ms?: number;
  nbf?: number;
  jti: string;
  typ: 'account' | 'client';
  unit: string;
  roles: Role[];
  /** RFC 9068: space-separated scopes of a client token. */
  scope?: string;
}

export function principalFromClaims(claims: Record<string, unknown>): Principal {
  const roles = Array.isArray(claims.roles) ? (claims.roles.filter((r) => (ROLES as readonly string[]).includes(r as string)) as Role[]) : [];
  return {
    kind: claims.typ === 'client' ? 'client' : 'account',
    subject: String(claims.sub),
    unitId: typeof claims.unit === 'string' ? claims.unit : '',
    roles,
    tokenId: typeof claims.jti === 'string' ? claims.jti : undefined,
    scopes: typeof claims.scope === 'string' ? claims.scope.split(' ').filter((x): x is ClientScope => (CLIENT_SCOPES as readonly string[]).includes(x)) : [],
    issuedAt: typeof claims.iat_ms === 'number' ? claims.iat_ms : typeof claims.iat === 'number' ? claims.iat * 1000 : undefined,
  };
}

export function isOffice(p: Principal): boolean {
  return p.roles.includes('office_admin') || p.roles.includes('office_auditor');
}

export function hasRole(p: Principal, ...roles: Role[]): boolean {
  return roles.some((r) => p.roles.includes(r));
}

export function requireRole(p: Principal, ...roles: Role[]): void {
  if (!hasRole(p, ...roles)) throw new ForbiddenError(`This action needs one of the roles: ${roles.join(', ')}.`, 'ROLE_REQUIRED');
}

/** A client token that carries the scope (accounts have no scopes: their roles say what they may do). */
export function hasScope(p: Principal, scope: ClientScope): boolean {
  return p.kind === 'client' && !!p.scopes?.includes(scope);
}

/** The actor of an event caused by this principal. */
export function actorOf(p: Principal): { kind: 'account' | 'client'; unitId: string; accountId?: string; clientId?: string } {
  return p.kind === 'client' ? { kind: 'client', unitId: p.unitId, clientId: p.subject } : { kind: 'account', unitId: p.unitId, accountId: p.subject };
}
