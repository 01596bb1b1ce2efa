import { Pool } from 'undici';
import { Gauge } from 'prom-client';
import { Type } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { actorOf } from '@gdx/auth';
import { AppError, ForbiddenError, PROBLEM_CONTENT_TYPE, ServiceUnavailableError, TooManyRequestsError, ValidationError, sendProblem } from '@gdx/errors';
import { BatchedPublisher } from '@gdx/events';
import { createEvent, wellFormedTraceparent } from '@gdx/contracts';
import { problemResponses, type App } from '@gdx/service-kit';
import type { GrantCache } from './grant-cache';
import { decide } from './grant-policy';
import type { QuotaCounter } from './quota';
import { QueryChannel } from './query-channel';

export interface QueryRoutesOptions {
  dataQueryUrl: string;
  grants: GrantCache;
  quota: QuotaCounter;
  /** Batches to data-query outstanding at once, and calls per batch. */
  channel: { inFlight: number; maxCalls: number };
}

const QueryBody = Type.Object(
  {
    where: Type.Record(Type.String(), Type.Unknown(), { description: 'Conditions on the resource’s query keys: a value, `{ in: [...] }` or `{ gte, lte }`.', examples: [{ idNumber: '11010519491231002X' }] }),
    items: Type.Optional(Type.Array(Type.String({ maxLength: 64 }), { maxItems: 200, description: 'Items to return; all granted items when left out.' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
    cursor: Type.Optional(Type.String({ maxLength: 512 })),
  },
  { additionalProperties: false },
);

/**
 * Interface queries are decided here before anything is forwarded: an active grant
 * of the caller's unit for the resource and mode, inside its validity window,
 * covering every requested item, within its rate and daily quota. A refusal is on
 * the audit record before the answer leaves (or the call fails closed with 503).
 * What passes goes to data-query, which checks the grant again and applies the row
 * filter and masking.
 */
export async function queryRoutes(app: App, { dataQueryUrl, grants, quota, channel: channelOptions }: QueryRoutesOptions): Promise<void> {
  // A plain keep-alive pool rather than the generic proxy: this is the platform's hottest path.
  const upstream = new Pool(dataQueryUrl, { connections: channelOptions.inFlight, pipelining: 1, keepAliveTimeout: 60_000 });
  app.addHook('onClose', async () => upstream.close());
  const channel = new QueryChannel(upstream, channelOptions.inFlight, channelOptions.maxCalls);
  // Calls per batch is how well the channel amortises its exchanges; operators watch it here.
  new Gauge({ name: 'gdx_gateway_query_channel_calls', help: 'Interface queries sent to data-query through the batch channel', registers: [app.metrics], collect() {
    this.set(channel.stats.calls);
  } });
  new Gauge({ name: 'gdx_gateway_query_channel_batches', help: 'Batches sent to data-query (calls ÷ batches = calls per exchange)', registers: [app.metrics], collect() {
    this.set(channel.stats.batches);
  } });
  // Refusals are the hot path under an enumeration attempt: they are written to the trail in batches.
  const trail = new BatchedPublisher(app.redis, app.streamPrefix, 'query');

  async function refuse(req: FastifyRequest, reply: FastifyReply, error: AppError, audit: { grantId?: string; reason: string; code: string }): Promise<never> {
    const p = req.principal;
    const body = req.body as { items?: unknown } | undefined;
    try {
      await trail.publish(createEvent('query.denied', {
        actor: actorOf(p),
        subject: (req.params as { code: string }).code,
        traceparent: req.headers.traceparent as string | undefined,
        data: { unitId: p.unitId, accountId: p.kind === 'account' ? p.subject : undefined, clientId: p.kind === 'client' ? p.subject : undefined, grantId: audit.grantId ?? null, resourceCode: (req.params as { code: string }).code, items: Array.isArray(body?.items) ? body.items : [], rowCount: 0, result: 'denied', reason: audit.code, latencyMs: Math.round(reply.elapsedTime * 10) / 10, requestId: req.id, sourceAddress: req.ip, via: 'gateway' },
      }));
    } catch {
      throw new ServiceUnavailableError('The call could not be recorded, so it was not answered.', 'AUDIT_UNAVAILABLE');
    }
    throw error;
  }

  app.post('/api/v1/query/:code', {
    bodyLimit: 65_536,
    // A malformed query is refused on the record too, so validation errors come to the handler.
    attachValidation: true,
    schema: {
      tags: ['data'],
      summary: 'Interface query (接口查询): one question about one person or company, answered within the caller’s grant',
      params: Type.Object({ code: Type.String({ minLength: 1, maxLength: 64, description: 'Resource code, URL-encoded (101001%2F0001).' }) }),
      body: QueryBody,
      response: {
        200: Type.Object({ items: Type.Array(Type.Record(Type.String(), Type.Unknown())), nextCursor: Type.Union([Type.String(), Type.Null()]), grantId: Type.String() }, { additionalProperties: true }),
        ...problemResponses(400, 401, 403, 429, 503),
      },
    },
  }, async (req, reply) => {
    if (req.validationError) {
      const v = req.validationError.validation?.[0] as { instancePath?: string; params?: { missingProperty?: string; additionalProperty?: string } } | undefined;
      const path = [v?.instancePath?.replace(/^\//, '').replace(/\//g, '.'), v?.params?.missingProperty ?? v?.params?.additionalProperty].filter(Boolean).join('.');
      const context = req.validationError.validationContext ?? 'body';
      return refuse(req, reply, new ValidationError(req.validationError.message, { field: path ? `${context}.${path}` : context }), { reason: req.validationError.message, code: 'VALIDATION_FAILED' });
    }
    if (!grants.ready) throw new ServiceUnavailableError('Grants are loading; try again shortly.', 'GRANTS_UNAVAILABLE');
    const p = req.principal;
    const decision = decide(grants.find(p.unitId, req.params.code), 'interface', req.body.items);
    if (!decision.ok) {
      return refuse(req, reply, new ForbiddenError(decision.detail, decision.code, decision.item ? { field: 'body.items', item: decision.item } : {}), { grantId: decision.grantId, reason: decision.detail, code: decision.code });
    }
    const g = decision.grant;
    let q;
    try {
      q = await quota.take(g.id, g.rateLimitPerSecond, g.dailyQuota);
    } catch {
      throw new ServiceUnavailableError('Quotas cannot be checked right now.', 'QUOTA_UNAVAILABLE');
    }
    const limitHeaders = { 'ratelimit-limit': String(q.reason === 'quota' ? g.dailyQuota : g.rateLimitPerSecond), 'ratelimit-remaining': String(q.reason === 'quota' ? 0 : q.rateRemaining), 'ratelimit-reset': String(q.resetSeconds) };
    if (!q.allowed) {
      const msg = q.reason === 'quota' ? `The grant's daily quota of ${g.dailyQuota} calls is used up.` : `The grant allows ${g.rateLimitPerSecond} calls per second.`;
      return refuse(req, reply, new TooManyRequestsError(msg, q.resetSeconds, limitHeaders, q.reason === 'quota' ? 'QUOTA_EXCEEDED' : 'RATE_LIMITED'), { grantId: g.id, reason: msg, code: q.reason === 'quota' ? 'QUOTA_EXCEEDED' : 'RATE_LIMITED' });
    }
    reply.headers(limitHeaders);
    return forward(req, reply, g.id);
  });

  async function forward(req: FastifyRequest, reply: FastifyReply, grantId: string) {
    let result;
    try {
      result = await channel.send({
        code: (req.params as { code: string }).code,
        authorization: req.headers.authorization as string,
        requestId: String(req.id),
        sourceAddress: req.ip,
        // Only a well-formed one: a call must not be able to spoil the batch it travels in.
        ...(wellFormedTraceparent(req.headers.traceparent) ? { traceparent: req.headers.traceparent as string } : {}),
        body: req.body,
      });
    } catch (err) {
      req.log.warn({ err, grantId }, 'data-query unavailable');
      return sendProblem(reply, { status: 503, code: 'UPSTREAM_UNAVAILABLE', title: 'Service unavailable', detail: 'The data-query service is not answering; try again shortly.' });
    }
    if (result.headers) reply.headers(result.headers);
    return reply
      .code(result.status)
      .type(result.status >= 400 ? PROBLEM_CONTENT_TYPE : 'application/json; charset=utf-8')
      .send(JSON.stringify(result.body));
  }
}
