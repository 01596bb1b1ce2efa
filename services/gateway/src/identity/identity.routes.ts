import { Type } from '@sinclair/typebox';
import { operationDoc, problemResponses, type App } from '@gdx/service-kit';
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
    {
      schema: {
        tags: ['identity'],
        summary: 'List units (the directory every caller may read)',
        ...operationDoc('Every unit of the directory with its kind, credit code and contact person. Any signed-in account or client may read it.'),
        response: { 200: Type.Object({ items: Type.Array(Type.Ref('Unit')) }), ...problemResponses(401) },
      },
    },
    async (req) => ({ items: await units.list(req.principal) }),
  );
  app.post(
    '/api/v1/units',
    {
      schema: {
        tags: ['identity'],
        summary: 'Create a unit (office admin)',
        ...operationDoc('Adds a department or the office to the directory. Only an office admin may; the unified social credit code must carry a valid GB 32100 check character and be new.', [
          'ROLE_REQUIRED',
          'INVALID_CREDIT_CODE',
          'UNIT_EXISTS',
        ]),
        body: CreateUnitSchema,
        response: { 201: Type.Ref('Unit'), ...problemResponses(400, 401, 403, 409) },
      },
    },
    async (req, reply) => reply.code(201).send(await units.create(req.principal, req.body, tp(req.headers.traceparent))),
  );
  app.get(
    '/api/v1/units/:id',
    {
      schema: {
        tags: ['identity'],
        summary: 'Read a unit',
        ...operationDoc('One unit of the directory; any signed-in caller may read it.'),
        params: IdParams,
        response: { 200: Type.Ref('Unit'), ...problemResponses(401, 404) },
      },
    },
    async (req) => units.get(req.principal, req.params.id),
  );
  app.patch(
    '/api/v1/units/:id',
    {
      schema: {
        tags: ['identity'],
        summary: 'Change a unit (office admin; a unit admin may change its own contact person)',
        ...operationDoc('The office admin changes any field; a unit admin may change only its own unit’s contact person, and naming another field is refused.', ['FORBIDDEN', 'FIELD_NOT_EDITABLE']),
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
        ...operationDoc('Staff accounts, without secrets. The office sees every unit’s; a unit admin only its own unit’s; other roles are refused.', ['ROLE_REQUIRED']),
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
        ...operationDoc(
          'Creates a staff account with its roles and initial password. A unit admin creates accounts only in its own unit; office roles belong to office accounts and only an office admin grants them.',
          ['NOT_YOUR_UNIT', 'UNKNOWN_UNIT', 'USERNAME_TAKEN', 'ROLE_NOT_ALLOWED'],
        ),
        body: CreateAccountSchema,
        response: { 201: Type.Ref('Account'), ...problemResponses(400, 401, 403, 409) },
      },
    },
    async (req, reply) => reply.code(201).send(await accounts.create(req.principal, req.body, tp(req.headers.traceparent))),
  );
  app.get(
    '/api/v1/accounts/:id',
    {
      schema: {
        tags: ['identity'],
        summary: 'Read an account',
        ...operationDoc('An account as its own holder, its unit’s admin or the office sees it; anyone else gets 404.'),
        params: IdParams,
        response: { 200: Type.Ref('Account'), ...problemResponses(401, 404) },
      },
    },
    async (req) => accounts.get(req.principal, req.params.id),
  );
  app.patch(
    '/api/v1/accounts/:id',
    {
      schema: {
        tags: ['identity'],
        summary: 'Change an account’s name, roles or status',
        ...operationDoc(
          'The office admin or the account unit’s admin changes the display name, roles or status; disabling an account revokes its tokens on every service. Office roles are granted only by an office admin.',
          ['ROLE_NOT_ALLOWED', 'FORBIDDEN'],
        ),
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
        ...operationDoc('An admin of the account’s unit (or the office) sets a new password; an account changes its own by giving the current one. Tokens issued before the change stop working.', [
          'WRONG_PASSWORD',
          'FORBIDDEN',
        ]),
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
    {
      schema: {
        tags: ['identity'],
        summary: 'Lift a lockout',
        ...operationDoc('Clears the failed sign-in count of a locked account. The office admin or the account unit’s admin may; for anyone else the account is 404.'),
        params: IdParams,
        response: { 200: Type.Ref('Account'), ...problemResponses(401, 404) },
      },
    },
    async (req) => accounts.unlock(req.principal, req.params.id, tp(req.headers.traceparent)),
  );

  app.get(
    '/api/v1/clients',
    {
      schema: {
        tags: ['identity'],
        summary: 'List business-system clients (office: all; unit admin: own unit)',
        ...operationDoc('Registered business systems, without secrets. The office sees every unit’s; a unit admin only its own unit’s; other roles are refused.', ['ROLE_REQUIRED']),
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
        ...operationDoc(
          'Registers an OAuth 2.0 client for a unit’s business system, optionally with scopes (`data:submit`). A unit admin registers clients only for its own unit; the secret is in this answer only.',
          ['NOT_YOUR_UNIT', 'UNKNOWN_UNIT'],
        ),
        body: CreateClientSchema,
        response: { 201: ClientWithSecretSchema, ...problemResponses(400, 401, 403) },
      },
    },
    async (req, reply) => reply.code(201).send(await clients.create(req.principal, req.body, tp(req.headers.traceparent))),
  );
  app.get(
    '/api/v1/clients/:id',
    {
      schema: {
        tags: ['identity'],
        summary: 'Read a client',
        ...operationDoc('A client as its unit’s admin or the office sees it; anyone else gets 404.'),
        params: IdParams,
        response: { 200: Type.Ref('Client'), ...problemResponses(401, 404) },
      },
    },
    async (req) => clients.get(req.principal, req.params.id),
  );
  app.patch(
    '/api/v1/clients/:id',
    {
      schema: {
        tags: ['identity'],
        summary: 'Rename a client or set its scopes (its own unit’s admin; taking a scope away revokes its tokens)',
        ...operationDoc('Scopes (§2): `data:submit` lets the business system submit data batches for the resources its unit provides. Another unit’s client answers 404.', ['CLIENT_REVOKED']),
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
        ...operationDoc('Issues a new secret for an active client (the old one stops working) and shows it once. Its unit’s admin or the office may; a revoked client gets no new secret.', [
          'CLIENT_REVOKED',
        ]),
        params: IdParams,
        response: { 200: ClientWithSecretSchema, ...problemResponses(400, 401, 404) },
      },
    },
    async (req) => clients.rotateSecret(req.principal, req.params.id, tp(req.headers.traceparent)),
  );
  app.post(
    '/api/v1/clients/:id/revoke',
    {
      schema: {
        tags: ['identity'],
        summary: 'Revoke a client: it gets no more tokens',
        ...operationDoc('Revokes a client: it gets no more tokens, and the tokens it holds stop working on every service. Its unit’s admin or the office may.'),
        params: IdParams,
        response: { 200: Type.Ref('Client'), ...problemResponses(401, 404) },
      },
    },
    async (req) => clients.revoke(req.principal, req.params.id, tp(req.headers.traceparent)),
  );
}
