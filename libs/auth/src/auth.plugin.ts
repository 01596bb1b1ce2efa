import fp from 'fastify-plugin';
import fastifyJwt from '@fastify/jwt';
import { createVerifier, TokenError } from 'fast-jwt';
import type { FastifyRequest } from 'fastify';
import { ServiceUnavailableError, UnauthorizedError } from '@gdx/errors';
import { principalFromClaims, type Principal } from './principal';
import type { KeyResolver } from './jwks-client';
import { TokenRevocations } from './token-revocations';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Routes reachable without a token (health, docs, the token endpoint). */
    public?: boolean;
  }
  interface FastifyRequest {
    principal: Principal;
  }
  interface FastifyInstance {
    /**
     * Verifies a bearer token that did not arrive in this request's own header (a call
     * carried inside a batch), with exactly the rules of the request hook.
     */
    authenticate: BearerVerifier;
  }
}

declare module '@fastify/jwt' {
  interface FastifyJWT {
    user: Principal;
  }
}

export interface AuthPluginOptions {
  issuer: string;
  audience: string;
  keyFor: KeyResolver;
  /** Subjects whose older tokens are refused; the plugin makes an empty one (app.tokenRevocations) when not given. */
  revocations?: TokenRevocations;
}

export const ALGORITHMS = ['EdDSA'] as const;

/** The one set of verification rules, for the request hook and for tokens carried in bodies alike. */
function verifyRules(options: AuthPluginOptions) {
  return {
    algorithms: [...ALGORITHMS],
    allowedIss: options.issuer,
    allowedAud: options.audience,
    requiredClaims: ['exp', 'iss', 'aud', 'sub'],
    cache: 10_000,
    errorCacheTTL: 0,
  };
}

export type BearerVerifier = (authorization: string | undefined) => Promise<Principal>;

function unauthorized(err: unknown): UnauthorizedError {
  if (err instanceof UnauthorizedError) return err;
  const code = (err as { code?: string }).code;
  return code === 'FST_JWT_AUTHORIZATION_TOKEN_EXPIRED' || code === TokenError.codes.expired
    ? new UnauthorizedError('The token has expired.', 'TOKEN_EXPIRED')
    : new UnauthorizedError('The token is not valid.', 'TOKEN_INVALID');
}

async function keyOf(options: AuthPluginOptions, kid: unknown): Promise<string> {
  if (typeof kid !== 'string' || !kid) throw new UnauthorizedError('The token names no key.', 'TOKEN_INVALID');
  const key = await options.keyFor(kid).catch(() => undefined);
  if (!key) throw new UnauthorizedError('The token was signed with a key this platform does not know.', 'TOKEN_INVALID');
  return key;
}

function checkedPrincipal(principal: Principal): Principal {
  if (!principal.unitId) throw new UnauthorizedError('The token names no unit.', 'TOKEN_INVALID');
  return principal;
}

/** Verified tokens remembered at most this long (and never past their `exp`). */
const REMEMBER_MS = 600_000;
const REMEMBER_MAX = 10_000;

/**
 * `Authorization: Bearer <token>` → the caller, or UnauthorizedError. A token verified once
 * is remembered by its exact text until its `exp` (at most ten minutes): a department
 * system sends the same token thousands of times, and the repeat costs a map lookup instead
 * of fast-jwt's SHA-256 of the token and its bookkeeping. Refusals are never remembered.
 */
export function createBearerVerifier(options: AuthPluginOptions): BearerVerifier {
  // fast-jwt's own cache off: `remembered` below is the cache, so a first sight is not hashed and stored twice.
  const verify = createVerifier({ ...verifyRules(options), cache: false, key: async (decoded: { header?: { kid?: unknown } }) => keyOf(options, decoded.header?.kid) });
  const remembered = new Map<string, { principal: Principal; until: number }>();
  return async (authorization) => {
    const m = /^Bearer ([A-Za-z0-9._~+/=-]+)$/i.exec(authorization ?? '');
    if (!m) throw new UnauthorizedError();
    const token = m[1];
    const now = Date.now();
    const hit = remembered.get(token);
    if (hit && now < hit.until) return notRevoked(options.revocations, hit.principal);
    let claims: Record<string, unknown>;
    try {
      claims = (await verify(token)) as Record<string, unknown>;
    } catch (err) {
      throw unauthorized(err);
    }
    const principal = checkedPrincipal(principalFromClaims(claims));
    Object.freeze(principal.roles);
    Object.freeze(principal);
    // Bounded the simple way: a full map starts again (tokens live an hour; 10,000 is many callers).
    if (remembered.size >= REMEMBER_MAX) remembered.clear();
    remembered.set(token, { principal, until: Math.min(Number(claims.exp) * 1000, now + REMEMBER_MS) });
    return notRevoked(options.revocations, principal);
  };
}

/** A disabled account's, a revoked client's or a pre-password-change token: refused, remembered or not. */
function notRevoked(revocations: TokenRevocations | undefined, principal: Principal): Principal {
  if (!revocations) return principal;
  if (!revocations.ready) throw new ServiceUnavailableError('Token revocations are not loaded yet.', 'REVOCATIONS_NOT_READY');
  if (revocations.isRevoked(principal.subject, principal.issuedAt ?? 0)) throw new UnauthorizedError('The token was revoked (account disabled, client revoked or password changed).', 'TOKEN_REVOKED');
  return principal;
}

/**
 * Zero trust: every service verifies the bearer token itself. The algorithm is
 * pinned, iss/aud/exp/sub are required, and every failure (malformed, unsigned,
 * wrong key, unknown kid, key server away) answers 401, never 500 or 200.
 * Routes are protected unless they say `config: { public: true }`.
 */
export const authPlugin = fp<AuthPluginOptions>(
  async (app, options) => {
    await app.register(fastifyJwt, {
      secret: {
        public: async (_request: FastifyRequest, token: { header?: { kid?: unknown } }) => keyOf(options, token?.header?.kid),
      },
      decode: { complete: true },
      verify: verifyRules(options),
      formatUser: (payload) => principalFromClaims(payload as Record<string, unknown>),
    } as Parameters<typeof fastifyJwt>[1]);
    // One verifier for the request hook and for tokens carried in bodies: fast-jwt (the
    // engine of @fastify/jwt) called directly, because @fastify/jwt's request path decodes
    // every token again to find its key before the cache is even asked, which was a
    // tenth of the gateway's CPU per interface query (docs/benchmarks.md).
    const revocations = options.revocations ?? new TokenRevocations();
    app.decorate('tokenRevocations', revocations);
    const authenticate = createBearerVerifier({ ...options, revocations });
    app.decorate('authenticate', authenticate);

    app.decorateRequest('principal', null as unknown as Principal);
    app.addHook('onRequest', async (request) => {
      if (request.routeOptions.config?.public) return;
      request.principal = await authenticate(request.headers.authorization);
    });
  },
  { name: 'gdx-auth', fastify: '5.x' },
);
