import { Type, type Static } from '@sinclair/typebox';
import { ITEM_TYPES, RESOURCE_STATUSES, SENSITIVITIES, SERVICE_MODES, SHARING_TYPES, StringEnum } from '../enums';

/** A catalogue item (信息项) as the catalogue shows it and puts it in `resource.*` events. */
export const ItemViewSchema = Type.Object({
  key: Type.String(),
  label: Type.String(),
  type: StringEnum(ITEM_TYPES),
  length: Type.Optional(Type.Integer()),
  required: Type.Boolean(),
  queryKey: Type.Boolean(),
  sensitivity: StringEnum(SENSITIVITIES),
  element: Type.Optional(Type.String()),
  authoritative: Type.Optional(Type.Boolean()),
  codeTable: Type.Optional(Type.String()),
  sharing: Type.Optional(StringEnum(SHARING_TYPES)),
});
export type ItemView = Static<typeof ItemViewSchema>;

/** A catalogue resource (信息资源) as the catalogue answers it and carries it in every `resource.*` event. */
export const ResourceViewSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    code: Type.String(),
    classification: Type.Array(Type.String()),
    name: Type.String(),
    summary: Type.String(),
    providerUnitId: Type.String({ format: 'uuid' }),
    providerUnitName: Type.String(),
    providerCreditCode: Type.String(),
    format: Type.String(),
    items: Type.Array(ItemViewSchema),
    queryKeys: Type.Array(Type.String(), { description: 'Keys of the items marked queryKey.' }),
    sharing: Type.Object({ type: StringEnum(SHARING_TYPES), conditions: Type.Optional(Type.String()), legalBasis: Type.Optional(Type.String()) }),
    methods: Type.Array(StringEnum(SERVICE_MODES)),
    open: Type.Object({ open: Type.Boolean(), conditions: Type.Optional(Type.String()) }),
    updateCycle: Type.String(),
    relatedCodes: Type.Array(Type.String()),
    status: StringEnum(RESOURCE_STATUSES),
    version: Type.Integer(),
    publishedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
  },
  { $id: 'Resource' },
);
export type ResourceView = Static<typeof ResourceViewSchema>;
