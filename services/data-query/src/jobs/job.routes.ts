import { Readable } from 'node:stream';
import { Type } from '@sinclair/typebox';
import { DENIAL_CODES } from '@gdx/contracts';
import { SERVICE_TOKEN_HEADER, type ServiceTokenVerifier } from '@gdx/auth';
import { AppError } from '@gdx/errors';
import { operationDoc, page, problemResponses, reportOwnerUnit, type App } from '@gdx/service-kit';
import { BATCH_CONTENT_TYPES, formatOf } from '../batches/record-readers';
import { firstForwarded } from '../query/query.routes';
import type { JobService, CallContext } from './job.service';
import { CreateJobSchema, JobListQuery, JobParams, JobSchema, ResultQuery } from './job.schemas';
import { negotiateResultFormat, RESULT_CONTENT_TYPES } from './job-result';
import type { FastifyRequest } from 'fastify';

const tp = (h: unknown) => (typeof h === 'string' ? h : undefined);
const Stream = (description: string) => ({ schema: Type.Unknown({ description }) });
const VISIBILITY = 'The job’s unit sees it whole; the office sees its terms and progress (never its result); any other unit gets 404 JOB_NOT_FOUND.';

export async function jobRoutes(app: App, { jobs, fromGateway }: { jobs: JobService; fromGateway: ServiceTokenVerifier }): Promise<void> {
  const context = async (req: FastifyRequest): Promise<CallContext> => ({
    requestId: String(req.id),
    // Anyone can write x-forwarded-for: it is the caller's address only on the gateway's word.
    sourceAddress: ((await fromGateway(req.headers[SERVICE_TOKEN_HEADER])) && firstForwarded(req.headers['x-forwarded-for'])) || req.ip,
    traceparent: tp(req.headers.traceparent),
  });
  // A call on a job is on the other party's record too: the resource's provider for the job's unit, the job's unit for the office.
  reportOwnerUnit(app, {
    routePrefix: '/api/v1/jobs',
    fromGateway,
    ownerOf: (req) => {
      const id = (req.params as { id?: unknown } | undefined)?.id;
      const code = (req.body as { resourceCode?: unknown } | undefined)?.resourceCode;
      return jobs.partyOf(req.principal, typeof id === 'string' ? id : undefined, typeof code === 'string' ? code : undefined);
    },
  });

  app.post(
    '/api/v1/jobs',
    {
      schema: {
        tags: ['data'],
        summary: 'Submit a customization job (数据定制): compare (比对), filter (筛选), clean (清洗), normalize (规范化) or convert',
        ...operationDoc(
          'Any account or business system of a unit holding an active grant of the `customization` mode on the resource. ' +
            '`compare`: each submitted record is matched on the resource’s row key and, per compared item, answered `match`, `mismatch` or `not_found` (or `invalid`, with `_reason`, for a malformed key or value); stored values are never returned, so `secret` items may be compared; only granted items. ' +
            '`filter`: the granted slice restricted by conditions on any granted item, masked as in a data call. `clean`: the submitted records trimmed, full-width → half-width, dates to ISO 8601, identity numbers and credit codes checked (15-digit identity numbers upgraded), region codes checked; every changed or rejected value reported per record. ' +
            '`normalize`: values mapped to standard codes (GB/T 2260 regions by name, with their parents, or historical name; GB/T 2261.1 sex), unmapped values reported. `convert`: another job’s result or the granted slice, kept in the format asked for. ' +
            'Records for compare, clean and normalize come with the job (`records`, up to 10,000) or afterwards with `PUT /api/v1/jobs/{id}/input` (NDJSON, CSV or a JSON array, streamed, up to 1,000,000). Answers 202 with the job and its `Location`. A unit may have a few jobs waiting or running at once (429 TOO_MANY_JOBS beyond).',
          [
            ...DENIAL_CODES,
            'UNKNOWN_ITEM',
            'KEY_NOT_COMPARED',
            'INVALID_CONDITION',
            'RANGE_NOT_ALLOWED',
            'NOTHING_TO_NORMALIZE',
            'GRANT_FILTER_INVALID',
            'TOO_MANY_FIELDS',
            'JOB_NOT_FOUND',
            'SOURCE_NOT_READY',
            'TOO_MANY_JOBS',
            'RESOURCE_NOT_FOUND',
            'RESOURCE_DEPRECATED',
          ],
        ),
        body: CreateJobSchema,
        response: {
          202: { ...JobSchema, description: 'Accepted: queued, or awaiting its input. `Location` is the job.' },
          ...problemResponses(400, 401, 403, 404, 409, 410, 429),
        },
      },
    },
    async (req, reply) => {
      const job = await jobs.create(req.principal, req.body, await context(req));
      return reply.code(202).header('location', `/api/v1/jobs/${job.id}`).send(job);
    },
  );

  await app.register(async (scope: App) => {
    // In this scope only: the input is handed over as the raw stream (never held in memory whole).
    scope.removeAllContentTypeParsers();
    for (const type of BATCH_CONTENT_TYPES) scope.addContentTypeParser(type, (_req, payload, done) => done(null, payload));
    scope.put(
      '/api/v1/jobs/:id/input',
      {
        schema: {
          tags: ['data'],
          summary: 'Upload a job’s input records (NDJSON, CSV or a JSON array, streamed)',
          ...operationDoc(
            'The records of a compare, clean or normalize job submitted without them, up to 1,000,000 (the whole input is taken or none of it). Each record is numbered from 1 in the order sent (`_record` in the result); a line that is not a record is kept and reported in its result line. The job is queued when the upload is complete. Only the job’s unit.',
            [
              'JOB_NOT_FOUND',
              'NOT_JOB_OWNER',
              'INPUT_ALREADY_GIVEN',
              'EMPTY_INPUT',
              'MALFORMED_INPUT',
              'TOO_MANY_FIELDS',
              'TOO_MANY_RECORDS',
              'INPUT_TOO_LARGE',
              'UNSUPPORTED_MEDIA_TYPE',
              'RESOURCE_DEPRECATED',
            ],
          ),
          params: JobParams,
          body: Type.Unknown({ description: 'The records: application/x-ndjson, text/csv (header row of field names) or application/json (an array).' }),
          response: { 202: { ...JobSchema, description: 'The input was taken; the job is queued.' }, ...problemResponses(400, 401, 403, 404, 409, 410, 413, 415) },
        },
      },
      async (req, reply) => {
        const format = formatOf(req.headers['content-type']);
        if (!format) throw new AppError(415, 'UNSUPPORTED_MEDIA_TYPE', 'Unsupported media type', 'Send application/x-ndjson, text/csv or application/json.');
        return reply.code(202).send(await jobs.upload(req.principal, req.params.id, format, req.body as Readable, await context(req)));
      },
    );
  });

  app.get(
    '/api/v1/jobs',
    {
      schema: {
        tags: ['data'],
        summary: 'List the caller unit’s jobs (the office: every unit’s, without results)',
        ...operationDoc('Newest first, paged by cursor; filters by state, kind and resource.', ['INVALID_CURSOR']),
        querystring: JobListQuery,
        response: { 200: page(JobSchema), ...problemResponses(400, 401) },
      },
    },
    async (req) => jobs.list(req.principal, req.query),
  );

  app.get(
    '/api/v1/jobs/:id',
    {
      schema: {
        tags: ['data'],
        summary: 'A job: its state, progress (records done of total), counts by verdict or outcome, and errors',
        ...operationDoc(VISIBILITY, ['JOB_NOT_FOUND']),
        params: JobParams,
        response: { 200: JobSchema, ...problemResponses(400, 401, 404) },
      },
    },
    async (req) => jobs.get(req.principal, req.params.id),
  );

  app.get(
    '/api/v1/jobs/:id/events',
    {
      schema: {
        tags: ['data'],
        summary: 'A job’s progress as Server-Sent Events, for a live progress bar',
        ...operationDoc(
          `\`text/event-stream\`: a \`progress\` event (data: status, progress, counts, error) whenever the job moves, then one \`end\` event with the whole job once it has ended, and the stream closes. ${VISIBILITY}`,
          ['JOB_NOT_FOUND'],
        ),
        params: JobParams,
        response: { 200: { description: 'The event stream.', content: { 'text/event-stream': Stream('Server-Sent Events: `progress` … `end`.') } }, ...problemResponses(400, 401, 404) },
      },
    },
    async (req, reply) => {
      const abort = new AbortController();
      req.raw.once('close', () => abort.abort());
      const events = await jobs.progress(req.principal, req.params.id, abort.signal);
      reply.header('content-type', 'text/event-stream; charset=utf-8').header('cache-control', 'no-store').header('x-accel-buffering', 'no');
      return reply.send(Readable.from(events, { objectMode: false }));
    },
  );

  app.post(
    '/api/v1/jobs/:id/cancel',
    {
      schema: {
        tags: ['data'],
        summary: 'Cancel a job that has not ended',
        ...operationDoc('The job stops after the chunk in hand; its counts are those of the chunks done. Only the job’s unit.', ['JOB_NOT_FOUND', 'NOT_JOB_OWNER', 'JOB_ENDED']),
        params: JobParams,
        response: { 200: JobSchema, ...problemResponses(400, 401, 403, 404, 409) },
      },
    },
    async (req) => jobs.cancel(req.principal, req.params.id, tp(req.headers.traceparent)),
  );

  app.get(
    '/api/v1/jobs/:id/result',
    {
      schema: {
        tags: ['data'],
        summary: 'Download a succeeded job’s result, streamed as NDJSON, CSV, JSON or XML',
        ...operationDoc(
          'By `format`, else `Accept`, else the job’s result format. `GDX-Result-Sha256` is the SHA-256 of the result as NDJSON (the job’s `resultSha256`, on the record). Results are deleted when the job expires (410 RESULT_EXPIRED). Only the job’s unit: the office sees a job’s terms and progress, never its result.',
          ['JOB_NOT_FOUND', 'NOT_JOB_OWNER', 'RESULT_NOT_READY', 'RESULT_EXPIRED'],
        ),
        params: JobParams,
        querystring: ResultQuery,
        response: {
          200: {
            description: 'The result, streamed.',
            headers: {
              'gdx-result-sha256': { type: 'string', description: 'SHA-256 (hex) of the result as NDJSON.' },
              'gdx-result-records': { type: 'string', description: 'Records in the result.' },
              'gdx-compare-normalization': {
                type: 'string',
                description: 'A compare’s normalisation of both sides before comparing (`trim`, `half-width`, `ignore-case`, comma-separated), or `none`.',
              },
            },
            content: {
              'application/x-ndjson': Stream('One JSON object per record.'),
              'text/csv': Stream('A header row of the job’s columns, then one row per record.'),
              'application/json': Stream('A JSON array of the records.'),
              'application/xml': Stream('`<records><record><field name="…">…</field></record></records>`'),
            },
          },
          ...problemResponses(400, 401, 403, 404, 409, 410),
        },
      },
    },
    async (req, reply) => {
      const { job, format, body } = await jobs.result(req.principal, req.params.id, negotiateResultFormat(req.query.format, req.headers.accept));
      reply
        .header('content-type', RESULT_CONTENT_TYPES[format])
        .header('content-disposition', `attachment; filename="job-${job.id}.${format}"`)
        .header('gdx-result-sha256', job.resultSha256 ?? '')
        .header('gdx-result-records', String(job.resultRecords));
      // A compare's verdicts hold under the normalisation it applied: said with the result, as with the job.
      if (job.kind === 'compare') reply.header('gdx-compare-normalization', ((job.parameters.normalize as string[] | undefined) ?? []).join(',') || 'none');
      return reply.send(body);
    },
  );
}
