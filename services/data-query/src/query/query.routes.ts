import { SERVICE_TOKEN_HEADER, type ServiceTokenVerifier } from '@gdx/auth';
import { operationDoc, problemResponses, type App } from '@gdx/service-kit';
import { QUERY_BATCH_MAX_BYTES, QUERY_BATCH_PATH, QueryBatchResultSchema, QueryBatchSchema, QueryBodySchema, QueryResultSchema, DENIAL_CODES } from '@gdx/contracts';
import { CodeParams } from '../batches/batch.schemas';
import type { QueryService } from './query.service';
import type { QueryBatchService } from './query-batch.service';

/** The first address of x-forwarded-for (believed only on the gateway's word). */
export function firstForwarded(header: string | string[] | undefined): string | undefined {
  const v = Array.isArray(header) ? header[0] : header;
  return v?.split(',')[0]?.trim() || undefined;
}

export interface QueryRoutesOptions {
  queries: QueryService;
  batches: QueryBatchService;
  /** Whether a request carries the gateway's service token: only then are forwarded addresses believed. */
  fromGateway: ServiceTokenVerifier;
}

export async function queryRoutes(app: App, { queries, batches, fromGateway }: QueryRoutesOptions): Promise<void> {
  app.post(
    '/api/v1/query/:code',
    {
      schema: {
        tags: ['data'],
        summary: 'Interface query (接口查询): rows of a resource by its query keys, within the caller unit’s grant',
        ...operationDoc(
          'Conditions on declared query keys only; projection to granted items, the grant’s row filter and masking applied; cursor paging. Denials answer 403 with a code naming the failed condition (NO_GRANT, MODE_NOT_GRANTED, GRANT_NOT_ACTIVE, GRANT_NOT_YET_VALID, GRANT_EXPIRED, ITEM_NOT_GRANTED): the same decision the gateway makes. Every call is audited before it is answered; 503 AUDIT_UNAVAILABLE when it cannot be. data-query’s own answer to an interface query the gateway forwarded: it decides the grant again, applies the grant’s row filter and masking, and records the call. Integrators call the gateway’s route of the same path.',
          [
            ...DENIAL_CODES,
            'UNKNOWN_ITEM',
            'INVALID_CONDITION',
            'CONDITION_REQUIRED',
            'NOT_A_QUERY_KEY',
            'TOO_MANY_VALUES',
            'RANGE_NOT_ALLOWED',
            'RESOURCE_NOT_FOUND',
            'RESOURCE_DEPRECATED',
            'AUDIT_UNAVAILABLE',
          ],
        ),
        params: CodeParams,
        body: QueryBodySchema,
        response: { 200: QueryResultSchema, ...problemResponses(400, 401, 403, 404, 410, 503) },
      },
      // A malformed query is still a query: the service answers it (and audits it) itself.
      attachValidation: true,
    },
    async (req, reply) =>
      queries.query({
        principal: req.principal,
        code: req.params.code,
        body: req.body,
        invalid: req.validationError?.message,
        requestId: String(req.id),
        // Anyone can write x-forwarded-for: it is the caller's address only on the gateway's word.
        sourceAddress: ((await fromGateway(req.headers[SERVICE_TOKEN_HEADER])) && firstForwarded(req.headers['x-forwarded-for'])) || req.ip,
        peerAddress: req.ip,
        elapsedMs: () => reply.elapsedTime,
        traceparent: typeof req.headers.traceparent === 'string' ? req.headers.traceparent : undefined,
      }),
  );

  app.post(
    QUERY_BATCH_PATH,
    {
      // The envelope carries no authority of its own: every call in it brings its caller's token.
      config: { public: true },
      bodyLimit: QUERY_BATCH_MAX_BYTES,
      schema: {
        tags: ['internal'],
        summary: 'Interface queries in one request: the gateway’s channel to data-query',
        ...operationDoc(
          'Each call carries its caller’s own `Authorization` header and is verified, decided, filtered, masked and audited exactly as `POST /api/v1/query/{code}` would be; its result is what that call would have answered (a query result or a problem document). The gateway sends the calls that arrive together in one request, so that the HTTP exchange, the row-key lookups and the audit appends are shared. Internal: the gateway sends interface queries it already decided in batches, with its service token. Not for integrators.',
        ),
        body: QueryBatchSchema,
        response: { 200: QueryBatchResultSchema, ...problemResponses(400, 413) },
      },
    },
    async (req, reply) => ({ results: await batches.answer(req.body.calls, req.ip, await fromGateway(req.headers[SERVICE_TOKEN_HEADER]), () => reply.elapsedTime) }),
  );
}
