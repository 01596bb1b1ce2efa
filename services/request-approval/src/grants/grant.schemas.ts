import { Type } from '@sinclair/typebox';
import { GRANT_STATUSES, StringEnum } from '@gdx/contracts';
import { PageQuery } from '@gdx/service-kit';
import { TransitionSchema } from '../requests/request.schemas';

// The grant itself is the contracts' GrantViewSchema ($id 'Grant'); app.ts registers it.
const DateTime = Type.String({ format: 'date-time' });
export const GrantStatusSchema = StringEnum(GRANT_STATUSES);

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

export const GrantChangeSchema = Type.Object(
  { reason: Type.Optional(Type.String({ minLength: 1, maxLength: 2000, description: 'Why; required to suspend or revoke.' })) },
  { additionalProperties: false },
);

export const SnapshotSchema = Type.Object({
  position: Type.String({ description: 'Last entry id of the grant stream read before the snapshot; follow the stream from here (exclusive).' }),
  stream: Type.String(),
  takenAt: DateTime,
  items: Type.Array(Type.Ref('Grant')),
});
