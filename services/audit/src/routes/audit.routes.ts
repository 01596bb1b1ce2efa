import { Readable } from 'node:stream';
import type { FastifyReply } from 'fastify';
import { Type } from '@sinclair/typebox';
import { requireRole } from '@gdx/auth';
import { mediaResponse, page, operationDoc, problemResponses, UuidParam, type App } from '@gdx/service-kit';
import type { AuditRecordService } from '../trail/audit-record.service';
import type { CheckpointService } from '../trail/checkpoint.service';
import type { VerificationService } from '../trail/verification.service';
import type { ExportService } from '../trail/export.service';
import { csvHeader, csvLine } from '../trail/record-csv';
import type { AuditRecord } from '../trail/audit-record.model';
import { AuditRecordSchema, CheckpointQuery, CheckpointSchema, RecordQuery, VerificationReportSchema } from './audit.schemas';

export interface AuditRoutesOptions {
  records: AuditRecordService;
  checkpoints: CheckpointService;
  verification: VerificationService;
  exports: ExportService;
}

const OFFICE = ['office_auditor', 'office_admin'] as const;

async function* lines(records: AsyncIterable<AuditRecord>, format: 'csv' | 'ndjson'): AsyncGenerator<string> {
  if (format === 'csv') yield csvHeader();
  let buffer = '';
  let n = 0;
  for await (const r of records) {
    buffer += format === 'csv' ? csvLine(r) : `${JSON.stringify(r)}\n`;
    if (++n % 500 === 0) {
      yield buffer;
      buffer = '';
    }
  }
  if (buffer) yield buffer;
}

/** Streams skip the response serializer, so their type is not the route's JSON schema. */
function sendStream(reply: FastifyReply, chunks: AsyncIterable<string>): FastifyReply {
  return reply.send(Readable.from(chunks));
}

export async function auditRoutes(app: App, { records, checkpoints, verification, exports }: AuditRoutesOptions): Promise<void> {
  app.addSchema(AuditRecordSchema);
  app.addSchema(CheckpointSchema);
  app.addSchema(VerificationReportSchema);

  app.get(
    '/api/v1/audit/records',
    {
      schema: {
        tags: ['audit'],
        summary: 'Search the audit trail (office: everything; a unit: its own calls and calls on its resources), newest first',
        ...operationDoc(
          'Audit records by time, unit, resource, result or request id, paged by cursor, or streamed whole as CSV or NDJSON. The office sees everything; a unit sees the calls it made and the calls on the resources it provides.',
          ['INVALID_CURSOR'],
        ),
        querystring: RecordQuery,
        response: { 200: page(Type.Ref('AuditRecord')), ...problemResponses(400, 401) },
      },
    },
    async (req, reply) => {
      const { limit = 50, cursor, format = 'json', ...filter } = req.query;
      if (format === 'json') return records.page(req.principal, filter, limit, cursor);
      const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '');
      reply.type(format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson').header('content-disposition', `attachment; filename="audit-records-${stamp}.${format}"`);
      return sendStream(reply, lines(records.all(req.principal, filter), format));
    },
  );

  app.get(
    '/api/v1/audit/records/:id',
    {
      schema: {
        tags: ['audit'],
        summary: 'Read one audit record',
        ...operationDoc('One audit record with its chain position and hash, if the caller’s unit may see it (else 404).'),
        params: Type.Object({ id: UuidParam }),
        response: { 200: Type.Ref('AuditRecord'), ...problemResponses(400, 401, 404) },
      },
    },
    async (req) => records.get(req.principal, req.params.id),
  );

  app.get(
    '/api/v1/audit/verify',
    {
      schema: {
        tags: ['audit'],
        summary: 'Verify the whole trail: every chain link and every signed checkpoint (office auditor or admin)',
        ...operationDoc('Recomputes every record’s hash link and checks every checkpoint signature; reports the first problem found. Office auditors and admins only.', ['ROLE_REQUIRED']),
        response: { 200: Type.Ref('AuditVerification'), ...problemResponses(401, 403) },
      },
    },
    async (req) => {
      requireRole(req.principal, ...OFFICE);
      return verification.verify();
    },
  );

  app.get(
    '/api/v1/audit/checkpoints',
    {
      schema: {
        tags: ['audit'],
        summary: 'List signed checkpoints, newest first (office auditor or admin)',
        ...operationDoc('The signed checkpoints of the trail’s chains, paged. Office auditors and admins only.', ['ROLE_REQUIRED', 'INVALID_CURSOR']),
        querystring: CheckpointQuery,
        response: { 200: Type.Object({ items: Type.Array(Type.Ref('AuditCheckpoint')) }), ...problemResponses(400, 401, 403) },
      },
    },
    async (req) => {
      requireRole(req.principal, ...OFFICE);
      return { items: await checkpoints.list(req.query.limit ?? 50, req.query.beforeSeq) };
    },
  );

  app.post(
    '/api/v1/audit/checkpoints',
    {
      schema: {
        tags: ['audit'],
        summary: 'Make a signed checkpoint now (office auditor or admin)',
        ...operationDoc('Signs the current head of every chain now, without waiting for the schedule. Office auditors and admins only.', ['ROLE_REQUIRED']),
        response: { 201: Type.Ref('AuditCheckpoint'), ...problemResponses(401, 403) },
      },
    },
    async (req, reply) => {
      requireRole(req.principal, ...OFFICE);
      return reply.code(201).send(await checkpoints.create());
    },
  );

  app.get(
    '/api/v1/audit/export',
    {
      schema: {
        tags: ['audit'],
        summary: 'Verifiable export of the whole trail as NDJSON (header, public keys, checkpoints, records by chain); check it offline with verify-cli --file',
        ...operationDoc('Streams the whole trail with what is needed to verify it offline (`npm run audit:verify -- --file`). Office auditors and admins only.', ['ROLE_REQUIRED']),
        response: {
          200: mediaResponse(
            'application/x-ndjson',
            Type.String({ description: 'One JSON object per line.' }),
            'NDJSON: a header line, the public keys, the checkpoints, then the records chain by chain',
          ),
          ...problemResponses(401, 403),
        },
      },
    },
    async (req, reply) => {
      requireRole(req.principal, ...OFFICE);
      const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '');
      reply.type('application/x-ndjson').header('content-disposition', `attachment; filename="audit-export-${stamp}.ndjson"`);
      return sendStream(reply, exports.ndjson());
    },
  );
}
