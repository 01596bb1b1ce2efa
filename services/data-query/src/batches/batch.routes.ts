import type { Readable } from 'node:stream';
import { problemResponse, operationDoc, problemResponses, type App } from '@gdx/service-kit';
import { AppError } from '@gdx/errors';
import { BATCH_CONTENT_TYPES, formatOf } from './record-readers';
import { BatchBodySchema, BatchRejectedSchema, BatchResultSchema, CodeParams } from './batch.schemas';
import type { BatchService } from './batch.service';

const tp = (h: unknown) => (typeof h === 'string' ? h : undefined);

export async function batchRoutes(app: App, { batches }: { batches: BatchService }): Promise<void> {
  // In this scope only: bodies are not parsed but handed over as the raw stream,
  // so a million-row batch never sits in memory (and no body limit applies to it).
  app.removeAllContentTypeParsers();
  for (const type of BATCH_CONTENT_TYPES) app.addContentTypeParser(type, (_req, payload, done) => done(null, payload));

  app.post(
    '/api/v1/data/:code/batches',
    {
      schema: {
        tags: ['data'],
        summary: 'Submit a batch of rows for one of the caller unit’s resources (applied whole or refused whole)',
        ...operationDoc(
          'Streams NDJSON, CSV or a JSON array. Every row is validated against the catalogue items (types, lengths, required items, dates, GB/T 2260 and GB/T 2261.1 codes, identity-number and credit-code check characters). Rows are keyed by the row key: the first query key that is a standard identity element, else the first query key. The provider unit’s admin or operator, or its business system with the `data:submit` scope, submits rows as NDJSON, CSV or a JSON array. Every row is checked against the catalogue’s items; one bad row refuses the whole batch (422 lists the rows and items). Another unit’s resource is refused.',
          ['ROLE_REQUIRED', 'NOT_PROVIDER', 'RESOURCE_NOT_FOUND', 'RESOURCE_DEPRECATED', 'EMPTY_BATCH', 'MALFORMED_BATCH', 'UNSUPPORTED_MEDIA_TYPE', 'BATCH_REJECTED'],
        ),
        params: CodeParams,
        body: BatchBodySchema,
        response: {
          200: BatchResultSchema,
          422: problemResponse(422, BatchRejectedSchema, undefined, 'The batch was refused whole; each listed row says which item failed and why.'),
          ...problemResponses(400, 401, 403, 404, 409, 415),
        },
      },
    },
    async (req) => {
      const format = formatOf(req.headers['content-type']);
      if (!format) throw new AppError(415, 'UNSUPPORTED_MEDIA_TYPE', 'Unsupported media type', `Send application/x-ndjson, text/csv or application/json.`);
      const ds = await batches.target(req.principal, req.params.code);
      return batches.submit(req.principal, ds, format, req.body as Readable, tp(req.headers.traceparent));
    },
  );
}
