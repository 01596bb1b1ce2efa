import { Type } from '@sinclair/typebox';
import { page, problemResponses, type App } from '@gdx/service-kit';
import { GrantChangeSchema, GrantDetailSchema, GrantFilterSchema, SnapshotSchema } from './grant.schemas';
import type { GrantService } from './grant.service';

const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });
const tp = (h: unknown) => (typeof h === 'string' ? h : undefined);

export async function grantRoutes(app: App, { grants }: { grants: GrantService }): Promise<void> {
  app.get(
    '/api/v1/grants',
    {
      schema: {
        tags: ['grants'],
        summary: 'List grants of the caller’s unit (as consumer or provider; the office: all)',
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
        response: { 200: SnapshotSchema, ...problemResponses(401, 403) },
      },
    },
    async (req) => grants.snapshot(req.principal),
  );
  app.get(
    '/api/v1/grants/:id',
    { schema: { tags: ['grants'], summary: 'Read a grant and its history', params: IdParams, response: { 200: GrantDetailSchema, ...problemResponses(400, 401, 404) } } },
    async (req) => grants.get(req.principal, req.params.id),
  );
  for (const action of ['suspend', 'resume', 'revoke'] as const) {
    app.post(
      `/api/v1/grants/:id/${action}`,
      {
        schema: {
          tags: ['grants'],
          summary: `${action[0].toUpperCase()}${action.slice(1)} a grant (the provider’s unit admin or the office admin)`,
          params: IdParams,
          body: GrantChangeSchema,
          response: { 200: Type.Ref('Grant'), ...problemResponses(400, 401, 403, 404, 409) },
        },
      },
      async (req) => grants.change(req.principal, req.params.id, action, req.body.reason, tp(req.headers.traceparent)),
    );
  }
}
