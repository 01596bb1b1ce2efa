import fp from 'fastify-plugin';
import fastifyJwt from '@fastify/jwt';
import type { FastifyRequest } from 'fastify';
import { UnauthorizedError } from '@gdx/errors';
import { principalFromClaims, type Principal } from './principal';
import type { KeyResolver } from './jwks-client';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Routes reachable without a token (health, docs, the token endpoint). */
    public?: boolean;
  }
  interface FastifyRequest {
    principal: Principal;
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
}

export const ALGORITHMS = ['EdDSA'] as const;

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
        public: async (_request: FastifyRequest, token: { header?: { kid?: unknown } }) => {
          const kid = token?.header?.kid;
          if (typeof kid !== 'string' || !kid) throw new UnauthorizedError('The token names no key.', 'TOKEN_INVALID');
          const key = await options.keyFor(kid).catch(() => undefined);
          if (!key) throw new UnauthorizedError('The token was signed with a key this platform does not know.', 'TOKEN_INVALID');
          return key;
        },
      },
      decode: { complete: true },
      verify: {
        algorithms: [...ALGORITHMS],
        allowedIss: options.issuer,
        allowedAud: options.audience,
        requiredClaims: ['exp', 'iss', 'aud', 'sub'],
        cache: 10_000,
        errorCacheTTL: 0,
      },
      formatUser: (payload) => principalFromClaims(payload as Record<string, unknown>),
    } as Parameters<typeof fastifyJwt>[1]);

    app.decorateRequest('principal', null as unknown as Principal);
    app.addHook('onRequest', async (request) => {
      if (request.routeOptions.config?.public) return;
      if (!request.headers.authorization) throw new UnauthorizedError();
      try {
        request.principal = await request.jwtVerify<Principal>();
      } catch (err) {
        if (err instanceof UnauthorizedError) throw err;
        const code = (err as { code?: string }).code === 'FST_JWT_AUTHORIZATION_TOKEN_EXPIRED' ? 'TOKEN_EXPIRED' : 'TOKEN_INVALID';
        throw new UnauthorizedError(code === 'TOKEN_EXPIRED' ? 'The token has expired.' : 'The token is not valid.', code);
      }
      if (!request.principal.unitId) throw new UnauthorizedError('The token names no unit.', 'TOKEN_INVALID');
    });
  },
  { name: 'gdx-auth', fastify: '5.x' },
);
