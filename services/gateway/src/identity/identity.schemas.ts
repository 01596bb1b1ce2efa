import { Type, type Static } from '@sinclair/typebox';
import { CLIENT_SCOPES, ROLES } from '@gdx/auth';

export const RoleSchema = Type.Union(
  ROLES.filter((r) => r !== 'client').map((r) => Type.Literal(r)),
  { description: 'Staff role (§2 of the platform design).' },
);

export const UnitSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    key: Type.String(),
    name: Type.String(),
    creditCode: Type.String({ description: '统一社会信用代码 (GB 32100)' }),
    regionCode: Type.String({ description: 'GB/T 2260 region code' }),
    kind: Type.Union([Type.Literal('office'), Type.Literal('provider'), Type.Literal('consumer')]),
    status: Type.Union([Type.Literal('active'), Type.Literal('disabled')]),
    contactName: Type.Optional(Type.Union([Type.String(), Type.Null()], { description: 'Designated contact (指定专人); shown to the office and the unit itself.' })),
    contactPhone: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
  },
  { $id: 'Unit' },
);

export const CreateUnitSchema = Type.Object(
  {
    key: Type.String({ pattern: '^[A-Z][A-Z0-9_]{1,31}$', examples: ['GA'] }),
    name: Type.String({ minLength: 2, maxLength: 200, examples: ['蚌埠市公安局'] }),
    creditCode: Type.String({ minLength: 18, maxLength: 18, examples: ['11340300284135459M'] }),
    regionCode: Type.String({ pattern: '^\\d{6}$', examples: ['340300'] }),
    kind: Type.Union([Type.Literal('office'), Type.Literal('provider'), Type.Literal('consumer')]),
    contactName: Type.Optional(Type.String({ minLength: 1, maxLength: 50 })),
    contactPhone: Type.Optional(Type.String({ pattern: '^[0-9+\\- ]{5,20}$' })),
  },
  { additionalProperties: false },
);
export type CreateUnit = Static<typeof CreateUnitSchema>;

export const UpdateUnitSchema = Type.Partial(
  Type.Object({
    name: Type.String({ minLength: 2, maxLength: 200 }),
    regionCode: Type.String({ pattern: '^\\d{6}$' }),
    status: Type.Union([Type.Literal('active'), Type.Literal('disabled')]),
    contactName: Type.String({ minLength: 1, maxLength: 50 }),
    contactPhone: Type.String({ pattern: '^[0-9+\\- ]{5,20}$' }),
  }),
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateUnit = Static<typeof UpdateUnitSchema>;

export const AccountSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    unitId: Type.String({ format: 'uuid' }),
    username: Type.String(),
    displayName: Type.String(),
    roles: Type.Array(RoleSchema),
    status: Type.Union([Type.Literal('active'), Type.Literal('disabled')]),
    locked: Type.Boolean(),
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
  },
  { $id: 'Account' },
);

export const PASSWORD = Type.String({ minLength: 12, maxLength: 200, description: 'At least 12 characters.' });

export const CreateAccountSchema = Type.Object(
  {
    unitId: Type.String({ format: 'uuid' }),
    username: Type.String({ pattern: '^[a-z0-9][a-z0-9._-]{2,63}$', examples: ['ga.zhang'] }),
    displayName: Type.String({ minLength: 1, maxLength: 100 }),
    roles: Type.Array(RoleSchema, { minItems: 1, uniqueItems: true }),
    password: PASSWORD,
  },
  { additionalProperties: false },
);
export type CreateAccount = Static<typeof CreateAccountSchema>;

export const UpdateAccountSchema = Type.Partial(
  Type.Object({
    displayName: Type.String({ minLength: 1, maxLength: 100 }),
    roles: Type.Array(RoleSchema, { minItems: 1, uniqueItems: true }),
    status: Type.Union([Type.Literal('active'), Type.Literal('disabled')]),
  }),
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateAccount = Static<typeof UpdateAccountSchema>;

export const SetPasswordSchema = Type.Object(
  { password: PASSWORD, currentPassword: Type.Optional(Type.String({ maxLength: 200, description: 'Required when changing one’s own password.' })) },
  { additionalProperties: false },
);

/** §2: what the unit admin lets its business system do beyond reading; the client's tokens carry them as `scope`. */
export const ClientScopes = Type.Array(Type.Union(CLIENT_SCOPES.map((c) => Type.Literal(c))), {
  uniqueItems: true,
  maxItems: CLIENT_SCOPES.length,
  description: '`data:submit`: submit data batches for the resources its unit provides.',
});

export const ClientSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    unitId: Type.String({ format: 'uuid' }),
    clientId: Type.String(),
    name: Type.String(),
    status: Type.Union([Type.Literal('active'), Type.Literal('revoked')]),
    scopes: ClientScopes,
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
  },
  { $id: 'Client' },
);

export const ClientWithSecretSchema = Type.Intersect([Type.Ref('Client'), Type.Object({ clientSecret: Type.String({ description: 'Shown once; only its hash is stored.' }) })]);

const ClientName = Type.String({ minLength: 1, maxLength: 100, examples: ['人社局社保经办系统'] });

export const CreateClientSchema = Type.Object({ unitId: Type.String({ format: 'uuid' }), name: ClientName, scopes: Type.Optional(ClientScopes) }, { additionalProperties: false });

export const UpdateClientSchema = Type.Object({ name: Type.Optional(ClientName), scopes: Type.Optional(ClientScopes) }, { additionalProperties: false, minProperties: 1 });
export type UpdateClient = Static<typeof UpdateClientSchema>;

export const TokenResponseSchema = Type.Object({
  access_token: Type.String(),
  token_type: Type.Literal('Bearer'),
  expires_in: Type.Integer(),
  scope: Type.Optional(Type.String({ description: 'Space-separated scopes of a client token (RFC 6749 §5.1).' })),
});

export const OAuthErrorSchema = Type.Object(
  {
    error: Type.Union(['invalid_request', 'invalid_client', 'invalid_grant', 'unauthorized_client', 'unsupported_grant_type', 'invalid_scope'].map((e) => Type.Literal(e))),
    error_description: Type.Optional(Type.String()),
  },
  { $id: 'OAuthError', description: 'RFC 6749 §5.2 error response' },
);

export const LoginSchema = Type.Object({ username: Type.String({ minLength: 1, maxLength: 64 }), password: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false });

export const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });
export const UnitFilter = Type.Object({ unitId: Type.Optional(Type.String({ format: 'uuid' })) }, { additionalProperties: false });
