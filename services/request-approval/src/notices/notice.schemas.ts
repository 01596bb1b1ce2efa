import { Type, type Static } from '@sinclair/typebox';
import { NoticeViewSchema, SERVICE_MODES, StringEnum } from '@gdx/contracts';
import { PageQuery } from '@gdx/service-kit';

const DateTime = Type.String({ format: 'date-time' });
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

const Scope = {
  services: Type.Optional(Type.Array(StringEnum(SERVICE_MODES), { maxItems: 3, uniqueItems: true, description: 'Service modes unavailable for every resource (office only).' })),
  resourceCodes: Type.Optional(
    Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 100, uniqueItems: true, description: 'Resources unavailable in every mode; a provider unit names only its own.' }),
  ),
};

export const AnnounceNoticeSchema = Type.Object(
  {
    startsAt: DateTime,
    endsAt: DateTime,
    ...Scope,
    description: Type.String({ minLength: 1, maxLength: 4000 }),
    emergency: Type.Optional(Type.Boolean({ description: 'Required for a window starting sooner than 3 working days ahead, with its reason.' })),
    emergencyReason: Type.Optional(Type.String({ minLength: 1, maxLength: 2000 })),
  },
  { additionalProperties: false },
);
export type AnnounceNoticeInput = Static<typeof AnnounceNoticeSchema>;

export const AmendNoticeSchema = Type.Object(
  {
    startsAt: Type.Optional(DateTime),
    endsAt: Type.Optional(DateTime),
    ...Scope,
    description: Type.Optional(Type.String({ minLength: 1, maxLength: 4000 })),
    emergency: Type.Optional(Type.Boolean()),
    emergencyReason: Type.Optional(Type.String({ minLength: 1, maxLength: 2000 })),
    reason: Type.String({ minLength: 1, maxLength: 2000, description: 'Why the notice is amended (kept in its history).' }),
  },
  { additionalProperties: false, minProperties: 2 },
);
export type AmendNoticeInput = Static<typeof AmendNoticeSchema>;

export const CancelNoticeSchema = Type.Object({ reason: Type.String({ minLength: 1, maxLength: 2000 }) }, { additionalProperties: false });

export const NoticeFilterSchema = Type.Object(
  {
    active: Type.Optional(Type.Boolean({ description: 'true: announced (not cancelled) and not yet over; false: cancelled or over.' })),
    from: Type.Optional(Type.String({ format: 'date-time', description: 'Windows ending after this instant.' })),
    to: Type.Optional(Type.String({ format: 'date-time', description: 'Windows starting before this instant.' })),
    resourceCode: Type.Optional(Type.String({ maxLength: 64, description: 'Notices naming this resource, or a service mode (which covers every resource).' })),
    ...PageQuery,
  },
  { additionalProperties: false },
);
export type NoticeFilter = Static<typeof NoticeFilterSchema>;

export const NoticeRevisionSchema = Type.Object(
  {
    version: Type.Integer(),
    action: Type.Union([Type.Literal('announce'), Type.Literal('amend'), Type.Literal('cancel')]),
    actorUnitId: Type.String({ format: 'uuid' }),
    actorId: Type.String(),
    at: DateTime,
    reason: Nullable(Type.String()),
    notice: Type.Ref('NoticeView'),
  },
  { additionalProperties: false },
);

export const NoticeDetailSchema = Type.Object(
  { ...NoticeViewSchema.properties, history: Type.Array(NoticeRevisionSchema, { description: 'The notice as it stood after each change, oldest first.' }) },
  { additionalProperties: false },
);

export const NoticeSnapshotSchema = Type.Object({
  position: Type.String({ description: 'The notice stream’s last entry when the snapshot was taken: read on from there.' }),
  takenAt: DateTime,
  items: Type.Array(Type.Ref('NoticeView')),
});
