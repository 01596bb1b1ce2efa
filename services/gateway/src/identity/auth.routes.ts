import formbody from '@fastify/formbody';
import { Type } from '@sinclair/typebox';
import { problemResponses, type App } from '@gdx/service-kit';
import { LoginSchema, OAuthErrorSchema, TokenResponseSchema } from './identity.schemas';
import { OAuthError, type AuthService } from './auth.service';
import type { KeyStore } from './key-store';

const TokenRequest = Type.Object(
  {
    grant_type: Type.Optional(Type.String({ examples: ['client_credentials'] })),
    client_id: Type.Optional(Type.String()),
    client_secret: Type.Optional(Type.String()),
    scope: Type.Optional(Type.String()),
  },
  { description: 'application/x-www-form-urlencoded (RFC 6749) or JSON; the client may authenticate with HTTP Basic instead of client_id/client_secret.' },
);

function basicCredentials(header: string | undefined): { id: string; secret: string } | undefined {
  if (!header?.startsWith('Basic ')) return undefined;
  const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  if (i < 0) return undefined;
  return { id: decodeURIComponent(decoded.slice(0, i)), secret: decodeURIComponent(decoded.slice(i + 1)) };
}

export async function authRoutes(app: App, { auth, keys }: { auth: AuthService; keys: KeyStore }): Promise<void> {
  await app.register(formbody, { bodyLimit: 8192 });
  app.addSchema(OAuthErrorSchema);

  app.post(
    '/api/v1/auth/token',
    {
      config: { public: true },
      schema: {
        tags: ['identity'],
        summary: 'OAuth 2.0 client credentials grant (RFC 6749 §4.4) for business systems',
        body: TokenRequest,
        response: { 200: TokenResponseSchema, 400: Type.Ref('OAuthError'), 401: Type.Ref('OAuthError') },
      },
      // The token endpoint answers its own errors in RFC 6749 form.
      attachValidation: true,
    },
    async (req, reply) => {
      reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
      const basic = basicCredentials(req.headers.authorization);
      try {
        if (req.validationError || !req.body) throw new OAuthError(400, 'invalid_request', 'The request body is malformed.');
        const body = req.body;
        if (!body.grant_type) throw new OAuthError(400, 'invalid_request', 'grant_type is missing.');
        if (body.grant_type !== 'client_credentials') throw new OAuthError(400, 'unsupported_grant_type', 'Only client_credentials is supported.');
        if (basic && body.client_id) throw new OAuthError(400, 'invalid_request', 'Use one client authentication method, not two.');
        const id = basic?.id ?? body.client_id;
        const secret = basic?.secret ?? body.client_secret;
        if (!id || !secret) throw new OAuthError(400, 'invalid_request', 'client_id and client_secret are required.');
        return await auth.clientCredentials(id, secret, { ip: req.ip, requestId: req.id, traceparent: req.headers.traceparent as string | undefined });
      } catch (err) {
        if (!(err instanceof OAuthError)) throw err;
        if (err.status === 401 && basic) reply.header('www-authenticate', 'Basic realm="gdx"');
        return reply.code(err.status).send({ error: err.error, error_description: err.description });
      }
    },
  );

  app.post(
    '/api/v1/auth/login',
    {
      config: { public: true },
      schema: { tags: ['identity'], summary: 'Staff sign-in with username and password', body: LoginSchema, response: { 200: TokenResponseSchema, ...problemResponses(400, 401) } },
    },
    async (req, reply) => {
      reply.header('cache-control', 'no-store');
      return auth.login(req.body.username, req.body.password, { ip: req.ip, requestId: req.id, traceparent: req.headers.traceparent as string | undefined });
    },
  );

  app.get(
    '/.well-known/jwks.json',
    {
      config: { public: true },
      schema: {
        tags: ['identity'],
        summary: 'Token verification keys (RFC 7517)',
        response: { 200: Type.Object({ keys: Type.Array(Type.Object({ kty: Type.String(), crv: Type.String(), x: Type.String(), kid: Type.String(), alg: Type.String(), use: Type.String() })) }) },
      },
    },
    async (_req, reply) => {
      reply.header('cache-control', 'public, max-age=60');
      return keys.jwks();
    },
  );
}
