import { Type, type Static } from '@sinclair/typebox';
import { ITEM_TYPES, RESOURCE_STATUSES, SENSITIVITIES, SERVICE_MODES, SHARING_TYPES, StringEnum } from '../enums';

/** A catalogue item (信息项) as the catalogue shows it and puts it in `resource.*` events. */
/**
 * How an item is masked when it may not leave in clear (§6: declared per item in the
 * catalogue, never guessed from its key or label): `full` hides the whole value; otherwise
 * the first `keepStart` and last `keepEnd` characters stay and the rest become `*`.
 */
export const ItemMaskSchema = Type.Union(
  [Type.Literal('full'), Type.Object({ keepStart: Type.Integer({ minimum: 0, maximum: 32 }), keepEnd: Type.Integer({ minimum: 0, maximum: 32 }) }, { additionalProperties: false })],
  {
    description: 'How the item is masked when it may not leave in clear: `full`, or the characters kept at each end.',
    examples: ['full', { keepStart: 6, keepEnd: 4 }],
  },
);
export type ItemMask = Static<typeof ItemMaskSchema>;

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
  /** Declared for `personal` and `secret` items; a default applies when it is left out. */
  mask: Type.Optional(ItemMaskSchema),
  /** Digits after the decimal point of a `decimal` item: values are served as strings with this scale. */
  scale: Type.Optional(Type.Integer({ minimum: 0, maximum: 18 })),
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
