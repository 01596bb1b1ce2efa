import { Type } from '@sinclair/typebox';
import { isUuidText, page, operationDoc, problemResponses, reportOwnerUnit, type App } from '@gdx/service-kit';
import { GrantChangeSchema, GrantDetailSchema, GrantFilterSchema, SnapshotSchema } from './grant.schemas';
import type { GrantService } from './grant.service';
import type { ServiceTokenVerifier } from '@gdx/auth';
import { Grant } from '../entities/grant.entity';

const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });
const tp = (h: unknown) => (typeof h === 'string' ? h : undefined);

export async function grantRoutes(app: App, { grants, fromGateway }: { grants: GrantService; fromGateway?: ServiceTokenVerifier }): Promise<void> {
  // The audit record of a call on a grant is the other party's too (§7): on the gateway's word only,
  // the answer names the unit owning the grant the call reached (the provider for the consumer, else the consumer).
  if (fromGateway)
    reportOwnerUnit(app, {
      routePrefix: '/api/v1/grants/:id',
      fromGateway,
      ownerOf: async (req, caller) => {
        const id = (req.params as { id?: unknown } | undefined)?.id;
        if (typeof id !== 'string' || !isUuidText(id)) return undefined;
        const g = await app.db.getRepository(Grant).findOne({ where: { id }, select: { consumerUnitId: true, providerUnitId: true } });
        return g ? (caller === g.consumerUnitId ? g.providerUnitId : g.consumerUnitId) : undefined;
      },
    });
  app.get(
    '/api/v1/grants',
    {
      schema: {
        tags: ['grants'],
        summary: 'List grants of the caller’s unit (as consumer or provider; the office: all)',
        ...operationDoc('Grants the caller’s unit holds or gives, filtered by status or resource, paged by cursor. The office sees all.', ['INVALID_CURSOR']),
        querystring: GrantFilterSchema,
        response: { 200: page(Type.Ref('Grant')), ...problemResponses(400, 401) },
      },
    },
    async (req) => grants.list(req.principal, req.query),
  );
  app.get(
    '/api/v1/grants/snapshot',
    {
      schema: {
        tags: ['grants'],
        summary: 'All active grants and the grant-stream position they correspond to (office or service accounts; the gateway loads this at start)',
        ...operationDoc('Every active grant and the stream position it reflects, for the gateway’s grant cache. Office or service principals only.', ['ROLE_REQUIRED']),
        response: { 200: SnapshotSchema, ...problemResponses(401, 403) },
      },
    },
    async (req) => grants.snapshot(req.principal),
  );
  app.get(
    '/api/v1/grants/:id',
    {
      schema: {
        tags: ['grants'],
        summary: 'Read a grant and its history',
        ...operationDoc('A grant with its terms and every change. Visible to its consumer and provider units and the office; anyone else gets 404.'),
        params: IdParams,
        response: { 200: GrantDetailSchema, ...problemResponses(400, 401, 404) },
      },
    },
    async (req) => grants.get(req.principal, req.params.id),
  );
  const ACTION_DOCS = {
    suspend: operationDoc(
      'Stops an active grant for now, with a reason; the gateway then refuses its queries (`GRANT_NOT_ACTIVE`). The provider unit’s admin or the office admin may; the consumer may not.',
      ['REASON_REQUIRED', 'NOT_ALLOWED', 'ILLEGAL_TRANSITION'],
    ),
    resume: operationDoc('Makes a suspended grant active again. The provider unit’s admin or the office admin may.', ['NOT_ALLOWED', 'ILLEGAL_TRANSITION']),
    revoke: operationDoc('Ends a grant for good, with a reason; its queries are refused from then on. The provider unit’s admin or the office admin may.', [
      'REASON_REQUIRED',
      'NOT_ALLOWED',
      'ILLEGAL_TRANSITION',
    ]),
  };
  for (const action of ['suspend', 'resume', 'revoke'] as const) {
    app.post(
      `/api/v1/grants/:id/${action}`,
      {
        schema: {
          tags: ['grants'],
          summary: `${action[0].toUpperCase()}${action.slice(1)} a grant (the provider’s unit admin or the office admin)`,
          ...ACTION_DOCS[action],
          params: IdParams,
          body: GrantChangeSchema,
          response: { 200: Type.Ref('Grant'), ...problemResponses(400, 401, 403, 404, 409) },
        },
      },
      async (req) => grants.change(req.principal, req.params.id, action, req.body.reason, tp(req.headers.traceparent)),
    );
  }
}
