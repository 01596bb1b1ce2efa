import { Type } from '@sinclair/typebox';
import { decideGrant, QueryBodySchema, QueryResultSchema } from '@gdx/contracts';
import { ForbiddenError, ServiceUnavailableError } from '@gdx/errors';
import { problemResponse, operationDoc, problemResponses, type App } from '@gdx/service-kit';
import type { GrantCache } from './grant-cache';
import type { ResourceProviders } from './resource-providers';
import type { QuotaCounter } from './quota';
import { queryForwarder, type QueryForwarderOptions } from './query-forwarder';
import { invalidQuery, queryRefusals } from './query-refusals';
import { quotaRefusal, rateLimitHeaders } from './rate-limit-headers';

/** The headers of a 429 (IETF RateLimit header fields draft and RFC 9110 Retry-After), for the OpenAPI document. */
const RATE_LIMIT_HEADERS = {
  'RateLimit-Limit': Type.Integer({ description: 'The limit met: calls per second, or calls per day once the daily quota is used up.' }),
  'RateLimit-Remaining': Type.Integer({ description: 'Calls left in the current window (0 on a refusal).' }),
  'RateLimit-Reset': Type.Integer({ description: 'Seconds until the window resets.' }),
  'Retry-After': Type.Integer({ description: 'Seconds to wait before calling again.' }),
};

export interface QueryRoutesOptions {
  dataQueryUrl: string;
  grants: GrantCache;
  /** Resource → provider unit, so that a refusal without a grant still names the provider. */
  resources: ResourceProviders;
  quota: QuotaCounter;
  /** Batches to data-query outstanding at once, and calls per batch. */
  channel: Omit<QueryForwarderOptions, 'dataQueryUrl'>;
}

/**
 * Interface queries are decided here before anything is forwarded: the one grant
 * decision of the contracts (an active grant of the caller's unit for the resource
 * and mode, inside its validity window, covering every requested item), then the
 * grant's rate and daily quota. A refusal is on the audit record before the answer
 * leaves (or the call fails closed with 503). What passes goes to data-query, which
 * decides again and applies the row filter and masking.
 */
export async function queryRoutes(app: App, { dataQueryUrl, grants, resources, quota, channel }: QueryRoutesOptions): Promise<void> {
  const forward = queryForwarder(app, { dataQueryUrl, ...channel });
  const refuse = queryRefusals(app, (code) => resources.providerOf(code));

  app.post(
    '/api/v1/query/:code',
    {
      bodyLimit: 65_536,
      // A malformed query is refused on the record too, so validation errors come to the handler.
      attachValidation: true,
      schema: {
        tags: ['data'],
        summary: 'Interface query (接口查询): one question about one person or company, answered within the caller’s grant',
        ...operationDoc(
          'The consumer unit’s account or client asks for items of one resource by its query keys. The gateway decides first: an active grant of the caller’s unit for the resource and the interface mode, inside its validity window, covering every requested item and condition, then the grant’s rate and daily quota. Every call, answered or refused, is on the audit trail of both units.',
          [
            'NO_GRANT',
            'GRANT_NOT_ACTIVE',
            'GRANT_NOT_YET_VALID',
            'GRANT_EXPIRED',
            'MODE_NOT_GRANTED',
            'ITEM_NOT_GRANTED',
            'RATE_LIMITED',
            'QUOTA_EXCEEDED',
            'INVALID_CONDITION',
            'CONDITION_REQUIRED',
            'NOT_A_QUERY_KEY',
            'TOO_MANY_VALUES',
            'RANGE_NOT_ALLOWED',
            'UNKNOWN_ITEM',
            'RESOURCE_NOT_FOUND',
            'RESOURCE_DEPRECATED',
            'GRANTS_UNAVAILABLE',
            'QUOTA_UNAVAILABLE',
            'AUDIT_UNAVAILABLE',
            'UPSTREAM_UNAVAILABLE',
          ],
        ),
        params: Type.Object({ code: Type.String({ minLength: 1, maxLength: 64, description: 'Resource code, URL-encoded (101001%2F0001).' }) }),
        body: QueryBodySchema,
        response: {
          200: QueryResultSchema,
          ...problemResponses(400, 401, 403, 503),
          429: problemResponse(429, undefined, RATE_LIMIT_HEADERS, 'The grant’s rate (`RATE_LIMITED`) or daily quota (`QUOTA_EXCEEDED`) is used up; retry after `Retry-After` seconds'),
        },
      },
    },
    async (req, reply) => {
      if (req.validationError) return refuse(req, reply, invalidQuery(req.validationError));
      if (!grants.ready) throw new ServiceUnavailableError('Grants are loading; try again shortly.', 'GRANTS_UNAVAILABLE');
      const decision = decideGrant(grants.find(req.principal.unitId, req.params.code), 'interface', req.body.items, Date.now());
      if (!decision.ok) return refuse(req, reply, new ForbiddenError(decision.detail, decision.code, decision.item ? { field: 'body.items', item: decision.item } : {}), decision.grant);
      const g = decision.grant;
      let q;
      try {
        q = await quota.take(g.id, g.rateLimitPerSecond, g.dailyQuota);
      } catch {
        throw new ServiceUnavailableError('Quotas cannot be checked right now.', 'QUOTA_UNAVAILABLE');
      }
      if (!q.allowed) return refuse(req, reply, quotaRefusal(q, g), g);
      reply.headers(rateLimitHeaders(q, g));
      return forward(req, reply, g.id);
    },
  );
}
