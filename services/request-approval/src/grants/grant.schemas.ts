import { Type } from '@sinclair/typebox';
import { PageQuery } from '@gdx/service-kit';
import { ServiceModeSchema, TransitionSchema } from '../requests/request.schemas';

const DateTime = Type.String({ format: 'date-time' });
export const GrantStatusSchema = Type.Union([Type.Literal('active'), Type.Literal('suspended'), Type.Literal('revoked'), Type.Literal('expired')]);

export const GrantSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    consumerUnitId: Type.String({ format: 'uuid' }),
    providerUnitId: Type.String({ format: 'uuid' }),
    resourceCode: Type.String(),
    items: Type.Array(Type.String()),
    rowFilter: Type.Union([Type.Ref('RowFilter'), Type.Null()]),
    modes: Type.Array(ServiceModeSchema),
    rateLimitPerSecond: Type.Integer(),
    dailyQuota: Type.Integer(),
    validFrom: DateTime,
    validTo: DateTime,
    purpose: Type.String(),
    requestId: Type.String({ format: 'uuid' }),
    status: GrantStatusSchema,
    statusReason: Type.Union([Type.String(), Type.Null()]),
    version: Type.Integer({ description: 'Grows with every change; a cache keeps the highest.' }),
  },
  { $id: 'Grant' },
);

export const GrantDetailSchema = Type.Intersect([Type.Ref('Grant'), Type.Object({ createdAt: DateTime, updatedAt: DateTime, transitions: Type.Array(TransitionSchema) })]);

export const GrantFilterSchema = Type.Object(
  {
    consumer: Type.Optional(Type.String({ format: 'uuid', description: 'Consumer unit id.' })),
    provider: Type.Optional(Type.String({ format: 'uuid', description: 'Provider unit id.' })),
    resourceCode: Type.Optional(Type.String({ maxLength: 64 })),
    status: Type.Optional(GrantStatusSchema),
    active: Type.Optional(Type.Boolean({ description: 'true: only grants that let data flow now (active and not past validTo).' })),
    ...PageQuery,
  },
  { additionalProperties: false },
);

export const GrantChangeSchema = Type.Object({ reason: Type.Optional(Type.String({ minLength: 1, maxLength: 2000, description: 'Why; required to suspend or revoke.' })) }, { additionalProperties: false });

export const SnapshotSchema = Type.Object({
  position: Type.String({ description: 'Last entry id of the grant stream read before the snapshot; follow the stream from here (exclusive).' }),
  stream: Type.String(),
  takenAt: DateTime,
  items: Type.Array(Type.Ref('Grant')),
});
