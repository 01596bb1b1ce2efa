import { Type } from '@sinclair/typebox';
import { isUuidText, operationDoc, page, problemResponses, reportOwnerUnit, type App } from '@gdx/service-kit';
import { CommitmentSchema, ConfirmSchema, FileRequestSchema, filingSchema, RequestDetailSchema, RequestFilterSchema, ReviewSchema, WithdrawSchema } from './request.schemas';
import type { RequestService } from './request.service';
import { currentCommitment } from './commitment';
import type { ServiceTokenVerifier } from '@gdx/auth';
import { ShareRequest } from '../entities/share-request.entity';

const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });
const tp = (h: unknown) => (typeof h === 'string' ? h : undefined);

/** What checking a reviewer's terms against the catalogue refuses (catalogue-checks.ts narrowTerms). */
const TERMS_CODES = [
  'RESOURCE_MISMATCH',
  'NOT_YOUR_RESOURCE',
  'MODE_NOT_OFFERED',
  'ITEMS_REQUIRED',
  'ITEMS_NOT_NARROWER',
  'CLEAR_ITEMS_NOT_NARROWER',
  'CLEAR_ITEM_NOT_REQUESTED',
  'VALIDITY_NOT_NARROWER',
  'INVALID_VALIDITY',
  'VALIDITY_IN_PAST',
  'UNKNOWN_ITEM',
  'ITEM_GONE',
  'ROW_FILTER_INVALID',
  'ROW_FILTER_KEY_NOT_QUERYABLE',
  'UNKNOWN_RESOURCE',
  'RESOURCE_NOT_PUBLISHED',
  'RESOURCE_GONE',
  'CATALOGUE_UNAVAILABLE',
];

export async function requestRoutes(app: App, { requests, fromGateway }: { requests: RequestService; fromGateway?: ServiceTokenVerifier }): Promise<void> {
  // The audit record of a call on a request is the other party's too (§7): the gateway, and only the
  // gateway (its service token), is told which unit owns the request the call reached, allowed or refused.
  if (fromGateway)
    reportOwnerUnit(app, {
      routePrefix: '/api/v1/requests/:id',
      fromGateway,
      ownerOf: async (req, caller) => {
        const id = (req.params as { id?: unknown } | undefined)?.id;
        if (typeof id !== 'string' || !isUuidText(id)) return undefined;
        const r = await app.db.getRepository(ShareRequest).findOne({ where: { id }, select: { applicantUnitId: true, providerUnitId: true } });
        return r ? (caller === r.applicantUnitId ? r.providerUnitId : r.applicantUnitId) : undefined;
      },
    });
  // Also under /requests: the gateway forwards that prefix today, while /api/v1/commitment needs a gateway route.
  for (const url of ['/api/v1/commitment', '/api/v1/requests/commitment']) {
    app.get(
      url,
      {
        schema: {
          // One documented route (the gateway's); the /requests one stays for callers of the service itself.
          hide: url !== '/api/v1/commitment',
          tags: ['requests'],
          summary: 'The commitment (承诺书) in force: show this text, send it (or its hash) back when filing',
          ...operationDoc('The text and hash of the commitment a consumer accepts when filing for an unconditional resource. Any signed-in caller may read it.'),
          response: { 200: CommitmentSchema, ...problemResponses(401) },
        },
      },
      async () => currentCommitment(),
    );
  }

  app.post(
    '/api/v1/requests',
    {
      schema: {
        tags: ['requests'],
        summary: 'File a request for a catalogue resource or an out-of-catalogue need',
        ...operationDoc(
          'A unit admin or operator files a request for a published resource of another unit (items, mode, validity, purpose, statutory duty) or describes an out-of-catalogue need to a named unit. Secret items are asked for in clear only explicitly.',
          [
            'ROLE_REQUIRED',
            'PURPOSE_REQUIRED',
            'DUTY_BASIS_REQUIRED',
            'RESOURCE_OR_NEED',
            'RESOURCE_REQUIRED',
            'OWN_RESOURCE',
            'PROVIDER_MISMATCH',
            'PROVIDER_REQUIRED',
            'MODE_NOT_OFFERED',
            'SECRET_ITEM_NOT_CLEAR',
            'UNKNOWN_UNIT',
            'UNKNOWN_ITEM',
            'ITEM_GONE',
            'CLEAR_ITEM_NOT_REQUESTED',
            'INVALID_VALIDITY',
            'VALIDITY_IN_PAST',
            'UNKNOWN_RESOURCE',
            'RESOURCE_NOT_PUBLISHED',
            'RESOURCE_GONE',
            'CATALOGUE_UNAVAILABLE',
          ],
        ),
        body: FileRequestSchema,
        response: { 201: RequestDetailSchema, ...problemResponses(400, 401, 403, 409, 503) },
      },
    },
    async (req, reply) => reply.code(201).send(await requests.file(req.principal, req.body, req.headers.authorization, tp(req.headers.traceparent))),
  );
  app.get(
    '/api/v1/requests',
    {
      schema: {
        tags: ['requests'],
        summary: 'List requests the caller’s unit filed or must answer (the office: all); `delayed=true` lists delayed provision',
        ...operationDoc('Requests the caller’s unit filed or must review, filtered and paged by cursor. The office sees all.', ['INVALID_CURSOR']),
        querystring: RequestFilterSchema,
        response: { 200: page(Type.Ref('Request')), ...problemResponses(400, 401) },
      },
    },
    async (req) => requests.list(req.principal, req.query),
  );
  app.get(
    '/api/v1/requests/:id',
    {
      schema: {
        tags: ['requests'],
        summary: 'Read a request, its record form and its history',
        ...operationDoc('A request with its record form and every step. Visible to the applicant and provider units and the office; anyone else gets 404.'),
        params: IdParams,
        response: { 200: RequestDetailSchema, ...problemResponses(400, 401, 404) },
      },
    },
    async (req) => requests.get(req.principal, req.params.id),
  );
  app.post(
    '/api/v1/requests/:id/filing',
    {
      schema: {
        tags: ['requests'],
        summary: 'Unconditional resources: file the record form (备案表) and accept the commitment (承诺书); the grant is issued at once',
        ...operationDoc(
          'The applicant unit’s person (not a system client) files the record form, whose 使用单位 is the caller’s unit, and accepts the commitment in force; the grant is issued at once.',
          [
            'NOT_APPLICANT',
            'SIGNER_REQUIRED',
            'COMMITMENT_REQUIRED',
            'COMMITMENT_MISMATCH',
            'COMMITMENT_OUTDATED',
            'FILING_FIELD_REQUIRED',
            'FILING_MISMATCH',
            'SHARING_TYPE_CHANGED',
            'VALIDITY_ELAPSED',
            'ILLEGAL_TRANSITION',
            'UNIT_DIRECTORY_UNAVAILABLE',
            'UNKNOWN_RESOURCE',
            'RESOURCE_NOT_PUBLISHED',
            'RESOURCE_GONE',
            'CATALOGUE_UNAVAILABLE',
          ],
        ),
        params: IdParams,
        body: filingSchema(),
        response: { 200: RequestDetailSchema, ...problemResponses(400, 401, 403, 404, 409, 503) },
      },
    },
    async (req) => requests.filing(req.principal, req.params.id, req.body, req.headers.authorization, tp(req.headers.traceparent)),
  );
  app.post(
    '/api/v1/requests/:id/review',
    {
      schema: {
        tags: ['requests'],
        summary: 'The provider approves (possibly narrowing) or refuses with a legal basis',
        ...operationDoc(
          'The provider unit’s admin approves, possibly with narrower terms (items, items in clear, validity, row filter), or refuses stating the legal basis. Terms may only narrow what was asked.',
          ['NOT_PROVIDER', 'ROLE_REQUIRED', 'LEGAL_BASIS_REQUIRED', 'TERMS_NOT_ALLOWED', 'ILLEGAL_TRANSITION', ...TERMS_CODES],
        ),
        params: IdParams,
        body: ReviewSchema,
        response: { 200: RequestDetailSchema, ...problemResponses(400, 401, 403, 404, 409, 503) },
      },
    },
    async (req) => requests.review(req.principal, req.params.id, req.body, req.headers.authorization, tp(req.headers.traceparent)),
  );
  app.post(
    '/api/v1/requests/:id/confirm',
    {
      schema: {
        tags: ['requests'],
        summary: 'The office confirms, returns to the provider, or refuses; for a resource not shared, an exception needs a legal basis',
        ...operationDoc(
          'An office admin confirms (the grant is issued), returns the request to the provider with a reason, or refuses with a legal basis. Secret items in clear and exceptions for resources not shared need a recorded legal basis.',
          ['ROLE_REQUIRED', 'ILLEGAL_TRANSITION', 'REASON_REQUIRED', 'LEGAL_BASIS_REQUIRED', 'TERMS_NOT_ALLOWED', 'VALIDITY_ELAPSED', ...TERMS_CODES],
        ),
        params: IdParams,
        body: ConfirmSchema,
        response: { 200: RequestDetailSchema, ...problemResponses(400, 401, 403, 404, 409, 503) },
      },
    },
    async (req) => requests.confirm(req.principal, req.params.id, req.body, req.headers.authorization, tp(req.headers.traceparent)),
  );
  app.post(
    '/api/v1/requests/:id/withdraw',
    {
      schema: {
        tags: ['requests'],
        summary: 'The applicant withdraws an open request',
        ...operationDoc('The applicant unit’s admin or operator withdraws a request that is still open.', ['NOT_APPLICANT', 'ROLE_REQUIRED', 'ILLEGAL_TRANSITION']),
        params: IdParams,
        body: WithdrawSchema,
        response: { 200: RequestDetailSchema, ...problemResponses(400, 401, 403, 404, 409) },
      },
    },
    async (req) => requests.withdraw(req.principal, req.params.id, req.body.reason, tp(req.headers.traceparent)),
  );
}
