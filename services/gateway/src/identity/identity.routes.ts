import { Type } from '@sinclair/typebox';
import { problemResponses, type App } from '@gdx/service-kit';
import {
  AccountSchema,
  ClientSchema,
  ClientWithSecretSchema,
  CreateAccountSchema,
  CreateClientSchema,
  CreateUnitSchema,
  IdParams,
  SetPasswordSchema,
  UnitFilter,
  UnitSchema,
  UpdateAccountSchema,
  UpdateClientSchema,
  UpdateUnitSchema,
} from './identity.schemas';
import type { UnitService } from './unit.service';
import type { AccountService } from './account.service';
import type { ClientService } from './client.service';

export interface IdentityRoutesOptions {
  units: UnitService;
  accounts: AccountService;
  clients: ClientService;
}

const tp = (h: unknown) => (typeof h === 'string' ? h : undefined);

export async function identityRoutes(app: App, { units, accounts, clients }: IdentityRoutesOptions): Promise<void> {
  app.addSchema(UnitSchema);
  app.addSchema(AccountSchema);
  app.addSchema(ClientSchema);

  app.get(
    '/api/v1/units',
    { schema: { tags: ['identity'], summary: 'List units (the directory every caller may read)', response: { 200: Type.Object({ items: Type.Array(Type.Ref('Unit')) }), ...problemResponses(401) } } },
    async (req) => ({ items: await units.list(req.principal) }),
  );
  app.post(
    '/api/v1/units',
    { schema: { tags: ['identity'], summary: 'Create a unit (office admin)', body: CreateUnitSchema, response: { 201: Type.Ref('Unit'), ...problemResponses(400, 401, 403, 409) } } },
    async (req, reply) => reply.code(201).send(await units.create(req.principal, req.body, tp(req.headers.traceparent))),
  );
  app.get('/api/v1/units/:id', { schema: { tags: ['identity'], summary: 'Read a unit', params: IdParams, response: { 200: Type.Ref('Unit'), ...problemResponses(401, 404) } } }, async (req) =>
    units.get(req.principal, req.params.id),
  );
  app.patch(
    '/api/v1/units/:id',
    {
      schema: {
        tags: ['identity'],
        summary: 'Change a unit (office admin; a unit admin may change its own contact person)',
        params: IdParams,
        body: UpdateUnitSchema,
        response: { 200: Type.Ref('Unit'), ...problemResponses(400, 401, 403, 404) },
      },
    },
    async (req) => units.update(req.principal, req.params.id, req.body, tp(req.headers.traceparent)),
  );

  app.get(
    '/api/v1/accounts',
    {
      schema: {
        tags: ['identity'],
        summary: 'List accounts (office: all; unit admin: own unit)',
        querystring: UnitFilter,
        response: { 200: Type.Object({ items: Type.Array(Type.Ref('Account')) }), ...problemResponses(400, 401, 403) },
      },
    },
    async (req) => ({ items: await accounts.list(req.principal, req.query.unitId) }),
  );
  app.post(
    '/api/v1/accounts',
    {
      schema: {
        tags: ['identity'],
        summary: 'Create an account (office admin, or the unit’s own admin)',
        body: CreateAccountSchema,
        response: { 201: Type.Ref('Account'), ...problemResponses(400, 401, 403, 409) },
      },
    },
    async (req, reply) => reply.code(201).send(await accounts.create(req.principal, req.body, tp(req.headers.traceparent))),
  );
  app.get(
    '/api/v1/accounts/:id',
    { schema: { tags: ['identity'], summary: 'Read an account', params: IdParams, response: { 200: Type.Ref('Account'), ...problemResponses(401, 404) } } },
    async (req) => accounts.get(req.principal, req.params.id),
  );
  app.patch(
    '/api/v1/accounts/:id',
    {
      schema: {
        tags: ['identity'],
        summary: 'Change an account’s name, roles or status',
        params: IdParams,
        body: UpdateAccountSchema,
        response: { 200: Type.Ref('Account'), ...problemResponses(400, 401, 403, 404) },
      },
    },
    async (req) => accounts.update(req.principal, req.params.id, req.body, tp(req.headers.traceparent)),
  );
  app.put(
    '/api/v1/accounts/:id/password',
    {
      schema: {
        tags: ['identity'],
        summary: 'Set a password (admins reset; an account changes its own with the current one)',
        params: IdParams,
        body: SetPasswordSchema,
        response: { 204: Type.Null(), ...problemResponses(400, 401, 403, 404) },
      },
    },
    async (req, reply) => {
      await accounts.setPassword(req.principal, req.params.id, req.body.password, req.body.currentPassword, tp(req.headers.traceparent));
      return reply.code(204).send(null);
    },
  );
  app.post(
    '/api/v1/accounts/:id/unlock',
    { schema: { tags: ['identity'], summary: 'Lift a lockout', params: IdParams, response: { 200: Type.Ref('Account'), ...problemResponses(401, 404) } } },
    async (req) => accounts.unlock(req.principal, req.params.id, tp(req.headers.traceparent)),
  );

  app.get(
    '/api/v1/clients',
    {
      schema: {
        tags: ['identity'],
        summary: 'List business-system clients (office: all; unit admin: own unit)',
        querystring: UnitFilter,
        response: { 200: Type.Object({ items: Type.Array(Type.Ref('Client')) }), ...problemResponses(400, 401, 403) },
      },
    },
    async (req) => ({ items: await clients.list(req.principal, req.query.unitId) }),
  );
  app.post(
    '/api/v1/clients',
    {
      schema: {
        tags: ['identity'],
        summary: 'Register a business system; the secret is shown once',
        body: CreateClientSchema,
        response: { 201: ClientWithSecretSchema, ...problemResponses(400, 401, 403) },
      },
    },
    async (req, reply) => reply.code(201).send(await clients.create(req.principal, req.body, tp(req.headers.traceparent))),
  );
  app.get('/api/v1/clients/:id', { schema: { tags: ['identity'], summary: 'Read a client', params: IdParams, response: { 200: Type.Ref('Client'), ...problemResponses(401, 404) } } }, async (req) =>
    clients.get(req.principal, req.params.id),
  );
  app.patch(
    '/api/v1/clients/:id',
    {
      schema: {
        tags: ['identity'],
        summary: 'Rename a client or set its scopes (its own unit’s admin; taking a scope away revokes its tokens)',
        description: 'Scopes (§2): `data:submit` lets the business system submit data batches for the resources its unit provides. Another unit’s client answers 404.',
        params: IdParams,
        body: UpdateClientSchema,
        response: { 200: Type.Ref('Client'), ...problemResponses(400, 401, 404) },
      },
    },
    async (req) => clients.update(req.principal, req.params.id, req.body, tp(req.headers.traceparent)),
  );
  app.post(
    '/api/v1/clients/:id/secret',
    {
      schema: {
        tags: ['identity'],
        summary: 'Rotate a client’s secret; the new secret is shown once',
        params: IdParams,
        response: { 200: ClientWithSecretSchema, ...problemResponses(400, 401, 404) },
      },
    },
    async (req) => clients.rotateSecret(req.principal, req.params.id, tp(req.headers.traceparent)),
  );
  app.post(
    '/api/v1/clients/:id/revoke',
    { schema: { tags: ['identity'], summary: 'Revoke a client: it gets no more tokens', params: IdParams, response: { 200: Type.Ref('Client'), ...problemResponses(401, 404) } } },
    async (req) => clients.revoke(req.principal, req.params.id, tp(req.headers.traceparent)),
  );
}
