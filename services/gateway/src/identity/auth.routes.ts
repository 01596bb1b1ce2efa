import formbody from '@fastify/formbody';
import { Type } from '@sinclair/typebox';
import { operationDoc, problemResponses, type App } from '@gdx/service-kit';
import { LoginSchema, OAuthErrorSchema, TokenResponseSchema } from './identity.schemas';
import { OAuthError, type AuthService } from './auth.service';
import { markRecorded } from '../proxy/call-record';
import { JwksSchema, type Jwk, type KeyStore } from '@gdx/auth';

const TokenRequest = Type.Object(
  {
    grant_type: Type.Optional(Type.String({ examples: ['client_credentials'] })),
    client_id: Type.Optional(Type.String()),
    client_secret: Type.Optional(Type.String()),
    scope: Type.Optional(Type.String()),
  },
  { description: 'application/x-www-form-urlencoded (RFC 6749) or JSON; the client may authenticate with HTTP Basic instead of client_id/client_secret.' },
);

/**
 * RFC 7617 / RFC 6749 §2.3.1: `Basic base64(urlencode(id):urlencode(secret))`. Anything that
 * does not decode (bad base64, bad percent-encoding, no colon) is a failed client
 * authentication, never an exception.
 */
function basicCredentials(header: string | undefined): { id: string; secret: string } | undefined {
  if (!header || !/^Basic(\s|$)/i.test(header)) return undefined;
  const encoded = header.slice(6).trim();
  const invalid = new OAuthError(401, 'invalid_client', 'The Basic credentials are malformed.');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded) || encoded.length % 4 !== 0) throw invalid;
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  if (i < 0) throw invalid;
  try {
    return { id: decodeURIComponent(decoded.slice(0, i)), secret: decodeURIComponent(decoded.slice(i + 1)) };
  } catch {
    throw invalid;
  }
}

export async function authRoutes(app: App, { auth, keys, manifestKeys }: { auth: AuthService; keys: KeyStore; manifestKeys: () => Promise<Jwk[]> }): Promise<void> {
  await app.register(formbody, { bodyLimit: 8192 });
  app.addSchema(OAuthErrorSchema);

  app.post(
    '/api/v1/auth/token',
    {
      config: { public: true },
      schema: {
        tags: ['identity'],
        summary: 'OAuth 2.0 client credentials grant (RFC 6749 §4.4) for business systems',
        ...operationDoc(
          'A registered business system exchanges its client id and secret (form-encoded or JSON body, or HTTP Basic) for a short-lived bearer token, optionally asking for scopes it was given. Errors follow RFC 6749 §5.2 (`invalid_request`, `invalid_client`, `invalid_grant`, `unsupported_grant_type`, `invalid_scope`), not problem+json.',
        ),
        consumes: ['application/x-www-form-urlencoded', 'application/json'],
        body: TokenRequest,
        response: { 200: TokenResponseSchema, 400: Type.Ref('OAuthError'), 401: Type.Ref('OAuthError') },
      },
      // The token endpoint answers its own errors in RFC 6749 form, including a body that does not parse.
      attachValidation: true,
      errorHandler: (err, _req, reply) => {
        const status = (err as { statusCode?: number }).statusCode ?? 500;
        if (status >= 500) throw err;
        reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
        void reply.code(400).send({ error: 'invalid_request', error_description: 'The request body is malformed or of an unsupported type.' });
      },
    },
    async (req, reply) => {
      reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
      let basic: { id: string; secret: string } | undefined;
      try {
        basic = basicCredentials(req.headers.authorization);
        if (req.validationError || !req.body) throw new OAuthError(400, 'invalid_request', 'The request body is malformed.');
        const body = req.body;
        if (!body.grant_type) throw new OAuthError(400, 'invalid_request', 'grant_type is missing.');
        if (body.grant_type !== 'client_credentials') throw new OAuthError(400, 'unsupported_grant_type', 'Only client_credentials is supported.');
        if (basic && body.client_id) throw new OAuthError(400, 'invalid_request', 'Use one client authentication method, not two.');
        const id = basic?.id ?? body.client_id;
        const secret = basic?.secret ?? body.client_secret;
        if (!id || !secret) throw new OAuthError(400, 'invalid_request', 'client_id and client_secret are required.');
        return await auth.clientCredentials(id, secret, { ip: req.ip, requestId: req.id, traceparent: req.headers.traceparent as string | undefined, recorded: () => markRecorded(req) }, body.scope);
      } catch (err) {
        if (!(err instanceof OAuthError)) throw err;
        if (err.status === 401 && /^Basic/i.test(req.headers.authorization ?? '')) reply.header('www-authenticate', 'Basic realm="gdx"');
        return reply.code(err.status).send({ error: err.error, error_description: err.description });
      }
    },
  );

  app.post(
    '/api/v1/auth/login',
    {
      config: { public: true },
      schema: {
        tags: ['identity'],
        summary: 'Staff sign-in with username and password',
        ...operationDoc('A staff account signs in and gets a bearer token carrying its unit and roles. Unknown names, wrong passwords and locked accounts answer alike.', ['INVALID_CREDENTIALS']),
        body: LoginSchema,
        response: { 200: TokenResponseSchema, ...problemResponses(400, 401) },
      },
    },
    async (req, reply) => {
      reply.header('cache-control', 'no-store');
      return auth.login(req.body.username, req.body.password, { ip: req.ip, requestId: req.id, traceparent: req.headers.traceparent as string | undefined, recorded: () => markRecorded(req) });
    },
  );

  app.get(
    '/.well-known/jwks.json',
    {
      config: { public: true },
      schema: {
        tags: ['identity'],
        summary: 'Token verification keys (RFC 7517)',
        ...operationDoc(
          'The public Ed25519 keys that verify the platform’s tokens, for services and integrators, and the keys that verify delivery manifests (marked `gdx_use: manifest`, never valid for a token). Public.',
        ),
        response: { 200: JwksSchema },
      },
    },
    async (_req, reply) => {
      reply.header('cache-control', 'public, max-age=60');
      return { keys: [...keys.jwks().keys, ...(await manifestKeys())] };
    },
  );
}
