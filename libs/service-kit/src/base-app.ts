import { randomUUID } from 'node:crypto';
import Fastify, {
  LogController,
  type FastifyReply,
  type FastifyRequest,
  type FastifyBaseLogger,
  type FastifyInstance,
  type RawReplyDefaultExpression,
  type RawRequestDefaultExpression,
  type RawServerDefault,
} from 'fastify';
import helmet from '@fastify/helmet';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { DataSource } from 'typeorm';
import type { CommonConfigType } from '@gdx/config';
import { frameworkErrors, ProblemSchema, registerErrorHandler } from '@gdx/errors';
import { loggerOptions } from '@gdx/logging';
import { databasePlugin, pendingMigrations } from '@gdx/database';
import { authPlugin, JwksClient, type KeyResolver } from '@gdx/auth';
import { redisPlugin } from './redis.plugin';
import { eventsPlugin } from './events.plugin';
import { metricsPlugin } from './metrics.plugin';
import { healthPlugin, ReadinessFailure, ReadinessWarning } from './health.plugin';
import { redisDurabilityProblems } from './redis-durability';
import { PLATFORM_CONTACT, type OpenApiDoc } from './openapi';
import { rejectBadText } from './text-guard';

export type App = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, FastifyBaseLogger, TypeBoxTypeProvider>;

export interface BaseAppOptions {
  name: string;
  config: CommonConfigType;
  dataSource: DataSource;
  /** Where token keys come from; defaults to the gateway's JWKS at config.jwksUrl. */
  keyFor?: KeyResolver;
  /** false silences logs (tests); otherwise pino with redaction at config.logLevel. */
  logger?: boolean;
  defaultMetrics?: boolean;
  relayPollMs?: number;
  openapi: { title: string; description: string; tags: { name: string; description: string }[] };
  /** Replaces the document served at /openapi.json and in Swagger UI (the gateway serves the merged one). */
  openapiDocument?: { current: () => OpenApiDoc | undefined; refresh: (own: OpenApiDoc) => Promise<OpenApiDoc> };
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** One log line per request (not two), none for probes and scrapes. */
class RequestLog extends LogController {
  constructor() {
    super({ disableRequestLogging: (req) => req.url.startsWith('/health') || req.url === '/metrics' });
  }
  override incomingRequest(): void {
    // the completion line says it all
  }
  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (this.isLogDisabled(request)) return;
    const line = { method: request.method, route: request.routeOptions.url ?? 'unmatched', status: reply.statusCode, ms: Math.round(reply.elapsedTime * 10) / 10 };
    if (error) reply.log.error({ ...line, err: error }, 'request failed');
    else reply.log.info(line, 'request');
  }
}

/** `POST /api/v1/clients/:id/secret` → `postClientsIdSecret`. */
export function operationId(method: string, url: string): string {
  const words = url
    .split('/')
    .filter((p) => p && p !== 'api' && !/^v\d+$/.test(p) && p !== '*')
    .map((p) => p.replace(/^[:.]/, '').replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : '')));
  return [method.toLowerCase(), ...words.map((w) => w.charAt(0).toUpperCase() + w.slice(1))].join('');
}

/**
 * The part every service shares: logging with request ids, one error path,
 * OpenAPI from route schemas, health, metrics, PostgreSQL, Redis, the outbox and
 * token verification. Services add their routes and consumers to what this returns.
 */
export async function createBaseApp(options: BaseAppOptions): Promise<App> {
  const { config } = options;
  const app = Fastify({
    logger: options.logger === false ? false : loggerOptions(options.name, config.logLevel),
    // Behind the ingress: the caller's address from X-Forwarded-For, believed only from the listed proxies.
    ...(config.trustProxy ? { trustProxy: config.trustProxy } : {}),
    bodyLimit: config.bodyLimitBytes,
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: false } },
    // On shutdown idle keep-alive connections close at once; requests in flight finish (close-with-grace bounds the wait).
    forceCloseConnections: 'idle',
    logController: new RequestLog(),
    return503OnClosing: true,
    frameworkErrors,
  }).withTypeProvider<TypeBoxTypeProvider>();

  // Callback style, not async: no promise per request on every service's hottest path.
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    done();
  });
  // Shutting down (SIGTERM in a rollout): idle keep-alive connections are closed at once
  // (forceCloseConnections 'idle'); a connection whose call is still in flight goes idle after
  // its answer and then times out at once, instead of holding the process until the keep-alive
  // timeout or being cut. Set on the server, not per request: nothing added to the hot path.
  app.addHook('preClose', (done) => {
    app.server.keepAliveTimeout = 1;
    done();
  });
  // Integrators generate clients from the document: every operation gets a stable id.
  app.addHook('onRoute', (route) => {
    const schema = route.schema as Record<string, unknown> | undefined;
    if (!schema || schema.operationId || schema.hide) return;
    const method = Array.isArray(route.method) ? route.method[0] : route.method;
    schema.operationId = operationId(method, route.url);
  });
  registerErrorHandler(app);
  app.addSchema(ProblemSchema);
  // NUL and lone surrogates are refused here, once for every route of every service.
  app.addHook('preValidation', rejectBadText);
  // nosniff everywhere; no framing (Swagger UI included); helmet's CSP otherwise, which
  // Swagger UI's own files satisfy (no inline scripts). Upgrading requests is left to TLS in front.
  await app.register(helmet, {
    contentSecurityPolicy: { directives: { 'frame-ancestors': ["'none'"], 'upgrade-insecure-requests': null } },
    frameguard: { action: 'deny' },
  });
  // API answers may carry personal data: no cache keeps them unless a route says otherwise.
  app.addHook('onSend', (request, reply, payload, done) => {
    if (request.url.startsWith('/api/') && !reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
    done(null, payload);
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: options.openapi.title, description: options.openapi.description, version: '1.0.0', contact: PLATFORM_CONTACT },
      servers: [{ url: '/' }],
      tags: [...options.openapi.tags, { name: 'operations', description: 'Health and metrics' }],
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'An access token from `POST /api/v1/auth/login` (staff) or `POST /api/v1/auth/token` (business systems).' },
          oauth2: {
            type: 'oauth2',
            description: 'OAuth 2.0 client credentials (RFC 6749 §4.4) for business systems: the client id and secret a unit admin registered.',
            flows: { clientCredentials: { tokenUrl: '/api/v1/auth/token', scopes: { 'data:submit': 'Submit data batches for the client unit’s own resources' } } },
          },
        },
      },
      security: [{ bearer: [] }, { oauth2: [] }],
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
  });
  // Public routes drop the global bearer requirement in the document too.
  app.addHook('onRoute', (route) => {
    if (route.url.startsWith('/docs')) route.config = { ...route.config, public: true };
    if (route.config?.public && route.schema) (route.schema as Record<string, unknown>).security = [];
  });
  const doc = options.openapiDocument;
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    uiConfig: { deepLinking: true },
    transformSpecification: doc ? (own) => doc.current() ?? own : undefined,
  });
  app.get('/openapi.json', { config: { public: true }, schema: { hide: true } }, async () => (doc ? doc.refresh(app.swagger() as OpenApiDoc) : app.swagger()));

  await app.register(metricsPlugin, { service: options.name, defaultMetrics: options.defaultMetrics });
  await app.register(healthPlugin);
  await app.register(databasePlugin, { dataSource: options.dataSource, migrateOnStart: config.migrateOnStart });
  await app.register(redisPlugin, { target: config, prefix: config.streamPrefix });
  await app.register(eventsPlugin, {
    relayPollMs: options.relayPollMs,
    relayCheckMs: config.outboxCheckMs,
    outboxRetentionMs: config.outboxRetentionHours * 3_600_000,
    consumerName: config.consumerName,
  });
  app.readinessChecks.set('postgres', async () => {
    await app.db.query('SELECT 1');
  });
  // Not ready on a schema older than this build: migrations are only ever added, so once none is pending the check is done for good.
  let migrated = false;
  app.readinessChecks.set('migrations', async () => {
    if (migrated) return;
    const pending = await pendingMigrations(app.db);
    if (pending.length) throw new ReadinessFailure(`${pending.length} pending (${pending.join(', ')}); run the migrate job`);
    migrated = true;
  });
  // A Redis blip does not take every pod out of service at once: readiness fails only once
  // Redis has been away for redisReadinessGraceMs (until then a warning, and calls that need it 503).
  // Since when the connection is down (its own events say; a ping that fails while it looks up counts from then).
  let redisDownSince: number | undefined = app.redis.status === 'ready' ? undefined : Date.now();
  app.redis.on('ready', () => (redisDownSince = undefined));
  app.redis.on('close', () => (redisDownSince ??= Date.now()));
  app.readinessChecks.set('redis', async () => {
    try {
      await app.redis.ping();
    } catch (err) {
      redisDownSince ??= Date.now();
      const away = Date.now() - redisDownSince;
      if (away < config.redisReadinessGraceMs) throw new ReadinessWarning(`unreachable for ${Math.round(away / 1000)} s (not ready after ${config.redisReadinessGraceMs / 1000} s)`);
      throw err;
    }
  });
  // Redis carries the events between the services: evicted or (after a restart) vanished stream
  // entries are events lost. Not a reason to stop serving, but a warning an operator sees.
  app.readinessChecks.set('redis-durability', async () => {
    let policy: unknown;
    let aof: unknown;
    try {
      [, policy] = (await app.redis.config('GET', 'maxmemory-policy')) as [string, string];
      [, aof] = (await app.redis.config('GET', 'appendonly')) as [string, string];
    } catch {
      throw new ReadinessWarning('cannot read its configuration (CONFIG disabled?): make sure of maxmemory-policy noeviction and appendonly yes');
    }
    const problems = redisDurabilityProblems(policy, aof);
    if (problems.length) throw new ReadinessWarning(problems.join('; '));
  });
  await app.register(authPlugin, {
    issuer: config.jwtIssuer,
    audience: config.jwtAudience,
    keyFor: options.keyFor ?? new JwksClient(config.jwksUrl).resolver(),
  });
  return app;
}
