import { Type } from '@sinclair/typebox';
import { requireRole } from '@gdx/auth';
import { BadRequestError } from '@gdx/errors';
import { operationDoc, problemResponses, type App } from '@gdx/service-kit';
import type { DeliveryTraceService } from '../trail/delivery-trace.service';

/** Leaked files of a few megabytes are traced whole; anything larger is traced by its SHA-256 or a sample. */
const TRACE_BODY_LIMIT = 16 * 1024 * 1024;

const TraceBody = Type.Object(
  {
    sha256: Type.Optional(Type.String({ pattern: '^[0-9a-fA-F]{64}$', description: 'The SHA-256 (hex) of a leaked file.' })),
    file: Type.Optional(Type.String({ minLength: 1, maxLength: TRACE_BODY_LIMIT - 1024, description: 'A leaked file’s content (NDJSON, CSV or JSON, uncompressed).' })),
    rows: Type.Optional(
      Type.Array(Type.Record(Type.String(), Type.Unknown()), { minItems: 1, maxItems: 100, description: 'A sample of leaked rows as JSON objects (item key → value as delivered).' }),
    ),
    resourceCode: Type.Optional(Type.String({ minLength: 3, maxLength: 64, description: 'The resource the rows are of: needed to trace rows (not a hash).' })),
  },
  { additionalProperties: false },
);

const TracedDeliverySchema = Type.Object({
  recordId: Type.String({ description: 'The delivery’s audit record.' }),
  deliveryId: Type.String(),
  deliveredAt: Type.String({ format: 'date-time' }),
  recipientUnitId: Type.String(),
  grantId: Type.String(),
  resourceCode: Type.String(),
  kind: Type.String({ description: 'pull or push' }),
  format: Type.String(),
  rows: Type.Integer(),
  sha256: Type.String(),
  outcome: Type.String(),
  match: Type.Union([Type.Literal('exact'), Type.Literal('sample')], { description: 'exact: the file is what the delivery sent; sample: the delivery held these rows as given.' }),
  matchedRows: Type.Optional(Type.Integer()),
});

export async function traceRoutes(app: App, { trace }: { trace: DeliveryTraceService }): Promise<void> {
  app.post(
    '/api/v1/audit/trace',
    {
      bodyLimit: TRACE_BODY_LIMIT,
      schema: {
        tags: ['audit'],
        summary: 'Trace a leaked file, its hash or a sample of its rows to the deliveries that could have produced it (office auditors)',
        ...operationDoc(
          'Art. 19 (no passing data on to third parties). A file or a SHA-256 is matched exactly against the SHA-256 every delivery recorded (for NDJSON the records without the cursor and trailer lines, as the signed manifest says). Rows (or, when no hash matches, the first 100 records of an NDJSON or JSON file) are compared with each recent delivery of `resourceCode` as it presented them — its items, the grant’s row filter and masking, its change-sequence range — and the deliveries holding any of them are answered, the most matches first. A row changed since a delivery is compared in its present version, and the grant’s present terms apply. Office auditors and admins only.',
          ['ROLE_REQUIRED', 'TRACE_INPUT_REQUIRED', 'RESOURCE_REQUIRED', 'TRACE_UNAVAILABLE'],
        ),
        body: TraceBody,
        response: { 200: Type.Object({ deliveries: Type.Array(TracedDeliverySchema) }), ...problemResponses(400, 401, 403, 413, 503) },
      },
    },
    async (req) => {
      requireRole(req.principal, 'office_auditor', 'office_admin');
      const { sha256, file, rows, resourceCode } = req.body;
      if (!sha256 && !file && !rows) throw new BadRequestError('TRACE_INPUT_REQUIRED', 'Give a file, its sha256 or a sample of rows.', { field: 'body' });
      const hashes = [...(sha256 ? [sha256.toLowerCase()] : []), ...(file ? trace.fileHashes(file) : [])];
      const exact = hashes.length ? await trace.byHashes(hashes) : [];
      if (exact.length || (!rows && !(file && resourceCode))) return { deliveries: exact };
      if (!resourceCode) throw new BadRequestError('RESOURCE_REQUIRED', 'Name the resource the rows are of (resourceCode).', { field: 'body.resourceCode' });
      const sample = rows ?? trace.fileRows(file ?? '');
      if (!sample.length) return { deliveries: [] };
      return { deliveries: await trace.bySample(resourceCode, sample, String(req.headers.authorization), String(req.id)) };
    },
  );
}
