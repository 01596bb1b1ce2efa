import { DeliveryTraceRequestSchema, DeliveryTraceResultSchema, DENIAL_CODES } from '@gdx/contracts';
import { Type } from '@sinclair/typebox';
import { SERVICE_TOKEN_HEADER, type ServiceTokenVerifier } from '@gdx/auth';
import { AppError } from '@gdx/errors';
import { operationDoc, problemResponses, type App } from '@gdx/service-kit';
import { CodeParams } from '../batches/batch.schemas';
import { firstForwarded } from '../query/query.routes';
import type { DataCallService } from './data-call.service';
import type { DeliveryTrace } from './delivery-trace';
import { negotiatePullFormat, PULL_CONTENT_TYPES } from './pull-formats';

const PullQuery = Type.Object(
  {
    since: Type.Optional(
      Type.String({ minLength: 1, maxLength: 400, description: 'A cursor from an earlier pull (its trailer, a checkpoint line or `GDX-Next-Cursor`): only changes after it, with tombstones.' }),
    ),
    items: Type.Optional(Type.String({ minLength: 1, maxLength: 2000, description: 'Comma-separated item keys, all granted; default: every granted item.' })),
    format: Type.Optional(Type.Union([Type.Literal('ndjson'), Type.Literal('csv'), Type.Literal('json')], { description: 'Overrides `Accept`.' })),
  },
  { additionalProperties: false },
);

const Rows = (description: string) => ({ schema: Type.Unknown({ description }) });

export async function dataCallRoutes(app: App, { dataCalls, fromGateway }: { dataCalls: DataCallService; fromGateway: ServiceTokenVerifier }): Promise<void> {
  await app.register(deliveryTraceRoutes, { trace: dataCalls.tracer() });
  app.get(
    '/api/v1/data/:code/records',
    {
      schema: {
        tags: ['data'],
        summary: 'Data call (数据调用): stream the caller unit’s granted slice of a resource, full or since a cursor',
        ...operationDoc(
          'Streams exactly the grant’s terms (items, row filter, masking, validity, state), as NDJSON (default), CSV (RFC 4180, header row) or a JSON array by `Accept` or `format`; gzip (by the gateway) when `Accept-Encoding` asks. Without `since` a full pull of the current rows; with `since` only the rows changed after that cursor and a tombstone `{"_deleted": true, <key>}` for every row deleted since. `GDX-Next-Cursor` is the cursor to continue from once the pull is complete; NDJSON also has a `{"_cursor": …}` line after every chunk (resume an interrupted pull from the last one seen: no gap, no duplicate) and ends with a trailer line `{"_end": {cursor, rows, tombstones, bytes, sha256, deliveryId, complete}}` (with `error` when the pull stopped early: the grant suspended, revoked or expired mid-stream, or the daily row quota used up). A CSV or JSON pull that stops early is broken off. The daily quota counts rows; 429 QUOTA_EXCEEDED with `RateLimit-*` and `Retry-After` once it is used up. Every pull is on the record (`data.delivered`) with its manifest and the SHA-256 of the rows as sent. Through the gateway, every pull also carries its manifest signed by the platform (a `gdx-manifest+jwt` JWT verifiable with `/.well-known/jwks.json`: recipient, grant, resource, cursor range, records, bytes, SHA-256), in the trailer line’s `manifest` and in the `gdx-manifest` HTTP trailer.',
          [...DENIAL_CODES, 'UNKNOWN_ITEM', 'GRANT_FILTER_INVALID', 'INVALID_CURSOR', 'NOT_ACCEPTABLE', 'QUOTA_EXCEEDED', 'RESOURCE_NOT_FOUND', 'RESOURCE_DEPRECATED'],
        ),
        params: CodeParams,
        querystring: PullQuery,
        response: {
          200: {
            description: 'The slice, streamed.',
            headers: {
              'gdx-delivery-id': { type: 'string', description: 'The delivery’s id on the record.' },
              'gdx-next-cursor': { type: 'string', description: 'The cursor to continue from once this pull is complete.' },
              'gdx-grant-id': { type: 'string', description: 'The grant the pull is served under.' },
              'ratelimit-limit': { type: 'string', description: 'The grant’s daily quota of rows.' },
              'ratelimit-remaining': { type: 'string', description: 'Rows left today when the pull began.' },
              'ratelimit-reset': { type: 'string', description: 'Seconds until the quota resets.' },
            },
            content: {
              'application/x-ndjson': Rows('One JSON object per row or tombstone, `{"_cursor": …}` checkpoint lines, and the `{"_end": …}` trailer line.'),
              'text/csv': Rows('A header row of item keys (and `_deleted` in an incremental pull), then one row per line.'),
              'application/json': Rows('A JSON array of rows and tombstones.'),
            },
          },
          ...problemResponses(400, 401, 403, 404, 406, 410, 429),
        },
      },
    },
    async (req, reply) => {
      const format = negotiatePullFormat(req.query.format, req.headers.accept);
      if (!format) throw new AppError(406, 'NOT_ACCEPTABLE', 'Not acceptable', 'A pull is served as application/x-ndjson, text/csv or application/json.');
      const start = await dataCalls.pull({
        principal: req.principal,
        code: req.params.code,
        format,
        since: req.query.since,
        items: req.query.items?.split(',').map((i) => i.trim()),
        requestId: String(req.id),
        // Anyone can write x-forwarded-for: it is the caller's address only on the gateway's word.
        sourceAddress: ((await fromGateway(req.headers[SERVICE_TOKEN_HEADER])) && firstForwarded(req.headers['x-forwarded-for'])) || req.ip,
        elapsedMs: () => reply.elapsedTime,
        traceparent: typeof req.headers.traceparent === 'string' ? req.headers.traceparent : undefined,
      });
      reply.headers(start.headers).header('content-type', PULL_CONTENT_TYPES[format]).header('vary', 'accept, accept-encoding');
      // Uncompressed: the gateway reads the body on its way (counts, hashes, signs) and compresses it when the caller asks.
      return reply.send(start.body);
    },
  );
}

/** The audit service's question when it traces a sample of leaked rows (`POST /api/v1/audit/trace`). */
export async function deliveryTraceRoutes(app: App, { trace }: { trace: DeliveryTrace }): Promise<void> {
  app.post(
    '/api/v1/data/:code/trace',
    {
      schema: {
        tags: ['internal'],
        summary: 'Which deliveries’ slices contain a sample of rows (office auditors; asked by the audit trace)',
        ...operationDoc(
          'For each delivery named (as the audit trail recorded it), counts the sample rows found in its slice as that delivery presented them (its items, the grant’s row filter and masking, its change-sequence range). A row changed since the delivery is compared in its present version; the grant’s present terms apply. Office auditors only. Integrators use `POST /api/v1/audit/trace`.',
          ['ROLE_REQUIRED', 'RESOURCE_NOT_FOUND', 'INVALID_CURSOR'],
        ),
        params: CodeParams,
        body: DeliveryTraceRequestSchema,
        response: { 200: DeliveryTraceResultSchema, ...problemResponses(400, 401, 403, 404) },
      },
    },
    async (req) => ({ results: await trace.trace(req.principal, req.params.code, req.body.deliveries, req.body.rows) }),
  );
}
