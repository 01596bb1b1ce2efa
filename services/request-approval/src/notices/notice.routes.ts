import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import { operationDoc, page, problemResponses, type App } from '@gdx/service-kit';
import { AmendNoticeSchema, AnnounceNoticeSchema, CancelNoticeSchema, NoticeDetailSchema, NoticeFilterSchema, NoticeSnapshotSchema } from './notice.schemas';
import type { NoticeService } from './notice.service';

const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });
const tp = (req: FastifyRequest) => (typeof req.headers.traceparent === 'string' ? req.headers.traceparent : undefined);

const TERMS_CODES = [
  'INVALID_WINDOW',
  'WINDOW_IN_PAST',
  'NOTICE_SCOPE_REQUIRED',
  'EMERGENCY_REASON_REQUIRED',
  'NOTICE_TOO_SHORT',
  'SERVICES_OFFICE_ONLY',
  'NOT_YOUR_RESOURCE',
  'UNKNOWN_RESOURCE',
  'CATALOGUE_UNAVAILABLE',
];

export async function noticeRoutes(app: App, { notices }: { notices: NoticeService }): Promise<void> {
  app.post(
    '/api/v1/notices',
    {
      schema: {
        tags: ['notices'],
        summary: 'Announce a maintenance window (Art. 23) at least 3 working days ahead, or sooner as an emergency with its reason',
        ...operationDoc(
          'An office admin announces maintenance of service modes or resources; a provider unit’s admin of its own resources. During the window the gateway answers calls to what it names with 503, `Retry-After` the window’s end and a link to the notice.',
          ['ROLE_REQUIRED', ...TERMS_CODES],
        ),
        body: AnnounceNoticeSchema,
        response: { 201: NoticeDetailSchema, ...problemResponses(400, 401, 403, 503) },
      },
    },
    async (req, reply) => reply.code(201).send(await notices.announce(req.principal, req.body, req.headers.authorization, tp(req))),
  );
  app.get(
    '/api/v1/notices',
    {
      schema: {
        tags: ['notices'],
        summary: 'Maintenance notices, to every unit: active ones, or those overlapping a period',
        ...operationDoc('Every signed-in caller sees every notice, newest first, paged by cursor.', ['INVALID_CURSOR']),
        querystring: NoticeFilterSchema,
        response: { 200: page(Type.Ref('NoticeView')), ...problemResponses(400, 401) },
      },
    },
    async (req) => notices.list(req.query),
  );
  app.get(
    '/api/v1/notices/snapshot',
    {
      schema: {
        tags: ['notices'],
        summary: 'Notices not yet over and the notice-stream position they correspond to (the gateway loads this at start)',
        ...operationDoc('For the gateway’s maintenance windows. Office or service principals only.', ['ROLE_REQUIRED']),
        response: { 200: NoticeSnapshotSchema, ...problemResponses(401, 403) },
      },
    },
    async (req) => notices.snapshot(req.principal),
  );
  app.get(
    '/api/v1/notices/:id',
    {
      schema: {
        tags: ['notices'],
        summary: 'Read a notice and its history',
        ...operationDoc('Every signed-in caller may read a notice, with every version it had.'),
        params: IdParams,
        response: { 200: NoticeDetailSchema, ...problemResponses(400, 401, 404) },
      },
    },
    async (req) => notices.get(req.params.id),
  );
  app.patch(
    '/api/v1/notices/:id',
    {
      schema: {
        tags: ['notices'],
        summary: 'Amend a notice (window, scope, text), with the reason; the previous version stays in its history',
        ...operationDoc(
          'The announcing unit’s admin or an office admin amends a notice not cancelled and not over. A start moved earlier or a scope widened is held to the 3-working-day rule again.',
          ['ROLE_REQUIRED', 'NOT_ISSUER', 'NOTICE_CHANGED', 'NOTICE_OVER', 'ILLEGAL_TRANSITION', ...TERMS_CODES],
        ),
        params: IdParams,
        body: AmendNoticeSchema,
        response: { 200: NoticeDetailSchema, ...problemResponses(400, 401, 403, 404, 409, 503) },
      },
    },
    async (req) => notices.amend(req.principal, req.params.id, req.body, req.headers.authorization, tp(req)),
  );
  app.post(
    '/api/v1/notices/:id/cancel',
    {
      schema: {
        tags: ['notices'],
        summary: 'Cancel a notice, with the reason; every gateway serves normally again within a second',
        ...operationDoc('The announcing unit’s admin or an office admin cancels a notice not over.', ['ROLE_REQUIRED', 'NOT_ISSUER', 'NOTICE_CHANGED', 'NOTICE_OVER', 'ILLEGAL_TRANSITION']),
        params: IdParams,
        body: CancelNoticeSchema,
        response: { 200: NoticeDetailSchema, ...problemResponses(400, 401, 403, 404, 409) },
      },
    },
    async (req) => notices.cancel(req.principal, req.params.id, req.body.reason, tp(req)),
  );
}
