import replyFrom from '@fastify/reply-from';
import type { FastifyReply, FastifyRequest, FastifySchema, HTTPMethods } from 'fastify';
import { sendProblem } from '@gdx/errors';
import type { App } from '@gdx/service-kit';
import type { GatewayConfig } from '../config';
import { SERVICE_TOKEN_HEADER } from '@gdx/auth';
import { limitedBody } from './body-limit';

const HIDDEN = { hide: true } as FastifySchema;

declare module 'fastify' {
  interface FastifyContextConfig {
    /** A proxied upload route's own body limit (see limitedBody). */
    uploadLimit?: number;
  }
}

/** A route the gateway decides before forwarding it (the rest of its area is forwarded as it comes). */
export interface GuardedRoute {
  method: HTTPMethods;
  url: string;
  guard: (req: FastifyRequest) => Promise<void>;
  /** A larger body limit for an upload route; its chunked body streams through, counted, instead of being held. */
  uploadLimit?: number;
  /** Headers sent upstream in place of the caller's (e.g. no compression, where the gateway reads the body). */
  requestHeaders?: Record<string, string>;
  /** Takes the upstream's answer (its headers already copied) and sends it: for routes whose body the gateway reads on the way. */
  onResponse?: (req: FastifyRequest, reply: FastifyReply, res: { statusCode: number; headers: Record<string, string | string[] | undefined>; stream: NodeJS.ReadableStream }) => void;
}

export interface Upstream {
  name: string;
  url: string;
  prefixes: string[];
}

/** Interface queries (/api/v1/query) are not proxied blindly: the gateway's query route decides them first. */
export function upstreamsOf(config: GatewayConfig): Upstream[] {
  return [
    { name: 'catalogue', url: config.catalogueUrl, prefixes: ['/api/v1/catalogue'] },
    {
      name: 'request-approval',
      url: config.requestApprovalUrl,
      prefixes: ['/api/v1/requests', '/api/v1/grants', '/api/v1/commitment', '/api/v1/objections', '/api/v1/complaints', '/api/v1/rectifications', '/api/v1/notices'],
    },
    { name: 'data-query', url: config.dataQueryUrl, prefixes: ['/api/v1/data', '/api/v1/subscriptions', '/api/v1/jobs'] },
    { name: 'audit', url: config.auditUrl, prefixes: ['/api/v1/audit', '/api/v1/assessments', '/api/v1/inspections'] },
  ];
}

/**
 * The gateway forwards each /api/v1 area to the service that owns it over a pooled
 * keep-alive connection. Bodies pass through unparsed (streams: NDJSON batches stay
 * flat in memory; a chunked one is counted against the body limit first), the request id travels along, and the token is checked here first
 * (the service checks it again).
 */
export async function proxyRoutes(
  app: App,
  { upstreams, bodyLimit, serviceToken, guarded = [], connectionTtlMs }: { upstreams: Upstream[]; bodyLimit: number; serviceToken: () => string; guarded?: GuardedRoute[]; connectionTtlMs?: number },
): Promise<void> {
  for (const upstream of upstreams) {
    await app.register(async (scope) => {
      scope.removeAllContentTypeParsers();
      // Over the limit is answered here with 413, before forwarding (see limitedBody).
      scope.addContentTypeParser('*', limitedBody(bodyLimit));
      await scope.register(replyFrom, {
        base: upstream.url,
        // Replaced after connectionTtlMs, so a service's new replicas get their share (see the gateway's config).
        undici: { connections: 128, pipelining: 1, keepAliveTimeout: 60_000, clientTtl: connectionTtlMs ?? null },
        disableRequestLogging: true,
      });
      const forward = (req: FastifyRequest, reply: FastifyReply, route?: GuardedRoute) =>
        reply.from(req.url, {
          // The service token vouches for the call having come through the gateway (whatever the caller sent in its place is replaced).
          rewriteRequestHeaders: (_r, headers) => ({ ...headers, ...route?.requestHeaders, 'x-request-id': String(req.id), 'x-forwarded-for': req.ip, [SERVICE_TOKEN_HEADER]: serviceToken() }),
          ...(route?.onResponse ? { onResponse: route.onResponse as never } : {}),
          onError: (r, { error }) => {
            req.log.warn({ err: error, upstream: upstream.name }, 'upstream unavailable');
            sendProblem(r as unknown as FastifyReply, {
              status: 503,
              code: 'UPSTREAM_UNAVAILABLE',
              title: 'Service unavailable',
              detail: `The ${upstream.name} service is not answering; try again shortly.`,
            });
          },
        });
      for (const route of guarded.filter((r) => upstream.prefixes.some((p) => r.url.startsWith(`${p}/`)))) {
        scope.route({
          method: route.method,
          url: route.url,
          schema: HIDDEN,
          config: route.uploadLimit === undefined ? {} : { uploadLimit: route.uploadLimit },
          preHandler: route.guard,
          handler: (req, reply) => forward(req, reply, route),
        });
      }
      for (const prefix of upstream.prefixes) {
        scope.all(prefix, { schema: HIDDEN }, (req, reply) => forward(req, reply));
        scope.all(`${prefix}/*`, { schema: HIDDEN }, (req, reply) => forward(req, reply));
      }
    });
  }
}
