import { Type, type Static } from '@sinclair/typebox';
import { referenceData } from '@gdx/codes';
import { PageQuery } from '@gdx/service-kit';
import { ITEM_TYPES, ItemMaskSchema, RESOURCE_STATUSES, SERVICE_MODES, ResourceViewSchema, SENSITIVITIES, SHARING_TYPES, StringEnum, type ResourceView } from '@gdx/contracts';

const ref = referenceData();
export { ITEM_TYPES, SENSITIVITIES, SHARING_TYPES, StringEnum };
export const STATUSES = RESOURCE_STATUSES;
export const FORMATS = ref.formats;
export const METHODS = SERVICE_MODES;
export const UPDATE_CYCLES = Object.keys(ref.updateCycles);
export const BASE_DATABASES = Object.keys(ref.baseDatabases);

/** 信息资源代码: 类(1) 项(2) 目(3) [细目(3)] / 顺序码(4). */
export const CODE_PATTERN = '^[1-3]\\d{5}(\\d{3})?/\\d{4}$';
export const CodeString = Type.String({ pattern: CODE_PATTERN, description: '信息资源代码, e.g. 101001/0001 (send it URL-encoded in paths: 101001%2F0001).', examples: ['101001/0001'] });
const Text = (max: number, description?: string) => Type.String({ minLength: 1, maxLength: max, description });

export const ItemInput = Type.Object(
  {
    key: Type.String({
      pattern: '^[a-z][A-Za-z0-9]{0,47}$',
      description: 'Machine name of the item (camelCase, at most 48 characters: other services derive column names from it); unique within the resource.',
      examples: ['idNumber'],
    }),
    label: Text(100, 'Chinese label (信息项名称).'),
    type: StringEnum(ITEM_TYPES, { description: 'Data type.' }),
    length: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000 })),
    required: Type.Optional(Type.Boolean({ description: 'Defaults to false.' })),
    queryKey: Type.Optional(Type.Boolean({ description: 'The item may be used as a query condition (interface query, row filters). Defaults to false.' })),
    sensitivity: Type.Optional(StringEnum(SENSITIVITIES, { description: 'Defaults to internal.' })),
    element: Type.Optional(Text(100, 'Standard data element (标准数据元) this item carries, e.g. 居民身份证号码.')),
    authoritative: Type.Optional(Type.Boolean({ description: 'This resource is the one authoritative source of `element` (一数一源). Defaults to false: a copy.' })),
    codeTable: Type.Optional(Text(100, 'Code table of a `code` item, e.g. GB/T 2260.')),
    sharing: Type.Optional(StringEnum(SHARING_TYPES, { description: 'Per-item override; may only be stricter than the resource’s sharing type.' })),
    mask: Type.Optional(
      Type.Union(ItemMaskSchema.anyOf, {
        description:
          'How a `personal` or `secret` item is masked when it may not leave in clear: `full`, or the characters kept at each end. Left out, the catalogue declares a default (an item of element 居民身份证号码 keeps 6 + 4, one of element 姓名 its first character, any other `full`). Not allowed on `public` or `internal` items.',
      }),
    ),
    scale: Type.Optional(
      Type.Integer({ minimum: 0, maximum: 18, description: 'Digits after the decimal point of a `decimal` item; its values are served as strings with this scale. Left out: as stored.' }),
    ),
  },
  { additionalProperties: false },
);
export type ItemInput = Static<typeof ItemInput>;

export const SharingInput = Type.Object(
  {
    type: StringEnum(SHARING_TYPES),
    conditions: Type.Optional(Text(2000, 'Required when the resource or any item is conditional.')),
    legalBasis: Type.Optional(Text(2000, 'Required when the resource or any item is not shared.')),
  },
  { additionalProperties: false },
);

export const OpenInput = Type.Object({ open: Type.Boolean(), conditions: Type.Optional(Text(2000)) }, { additionalProperties: false });

const Classification = Type.Array(Type.String({ pattern: '^\\d{1,3}$' }), { minItems: 3, maxItems: 4, description: '类 / 项 / 目 / 细目, e.g. ["1","01","001"].' });

const editable = {
  name: Text(200, '信息资源名称'),
  summary: Text(4000, '信息资源摘要'),
  providerUnitId: Type.String({ format: 'uuid' }),
  format: StringEnum(FORMATS),
  items: Type.Array(ItemInput, { minItems: 1, maxItems: 500 }),
  queryKeys: Type.Array(Type.String({ maxLength: 63 }), { maxItems: 50, description: 'When given, the complete list of query keys (item keys); it overrides the items’ queryKey flags.' }),
  sharing: SharingInput,
  methods: Type.Array(StringEnum(METHODS), { uniqueItems: true, maxItems: 3 }),
  open: OpenInput,
  updateCycle: StringEnum(UPDATE_CYCLES),
  relatedCodes: Type.Array(CodeString, { uniqueItems: true, maxItems: 100 }),
};

export const CreateResourceSchema = Type.Object(
  {
    code: Type.String({ maxLength: 20, description: CodeString.description, examples: ['101001/0001'] }),
    classification: Classification,
    name: editable.name,
    summary: editable.summary,
    providerUnitId: editable.providerUnitId,
    format: editable.format,
    items: editable.items,
    queryKeys: Type.Optional(editable.queryKeys),
    sharing: editable.sharing,
    methods: editable.methods,
    open: Type.Optional(editable.open),
    updateCycle: editable.updateCycle,
    relatedCodes: Type.Optional(editable.relatedCodes),
  },
  { additionalProperties: false },
);
export type CreateResource = Static<typeof CreateResourceSchema>;

/** The code and classification are the resource's identity and cannot change. */
export const UpdateResourceSchema = Type.Partial(Type.Object(editable), { additionalProperties: false, minProperties: 1 });
export type UpdateResource = Static<typeof UpdateResourceSchema>;

/** The resource as callers see it is the view every `resource.*` event carries: declared once, in the contracts. */
export const ResourceSchema = ResourceViewSchema;
export type { ResourceView };

export const CodeParams = Type.Object({ code: CodeString });
export const VersionParams = Type.Object({ code: CodeString, version: Type.Integer({ minimum: 1, maximum: 2_147_483_647, description: 'Version number (a PostgreSQL integer).' }) });

export const SORTS = ['code', '-code', 'name', '-name', 'updatedAt', '-updatedAt', 'publishedAt', '-publishedAt'] as const;
export type SortKey = (typeof SORTS)[number];

export const SearchQuery = Type.Object(
  {
    q: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'Substring of the name or summary (Chinese works: 人口); surrounding spaces are ignored.' })),
    provider: Type.Optional(Type.String({ format: 'uuid', description: 'Provider unit id.' })),
    class: Type.Optional(StringEnum(['1', '2', '3'], { description: '类: 1 base, 2 thematic, 3 departmental.' })),
    baseDatabase: Type.Optional(StringEnum(BASE_DATABASES, { description: 'Base database (基础数据库), e.g. 101 人口.' })),
    sharingType: Type.Optional(StringEnum(SHARING_TYPES)),
    method: Type.Optional(StringEnum(METHODS)),
    updateCycle: Type.Optional(StringEnum(UPDATE_CYCLES)),
    status: Type.Optional(StringEnum(STATUSES, { description: 'Without it: everything the caller may see.' })),
    sort: Type.Optional(StringEnum(SORTS, { default: 'code', description: 'A leading minus sorts descending.' })),
    ...PageQuery,
  },
  { additionalProperties: false },
);
export type SearchQuery = Static<typeof SearchQuery>;

const ActorSchema = Type.Object({ kind: Type.String(), unitId: Type.Optional(Type.String()), accountId: Type.Optional(Type.String()), clientId: Type.Optional(Type.String()) });

export const VersionSummarySchema = Type.Object({
  version: Type.Integer(),
  change: StringEnum(['created', 'updated', 'published', 'deprecated']),
  changedFields: Type.Array(Type.String()),
  changedBy: ActorSchema,
  changedAt: Type.String({ format: 'date-time' }),
  status: StringEnum(STATUSES),
});

export const VersionSchema = Type.Intersect([VersionSummarySchema, Type.Object({ resource: Type.Ref('Resource') })]);

export const ElementSchema = Type.Object({
  name: Type.String(),
  source: Type.Union(
    [Type.Object({ code: Type.String(), name: Type.String(), itemKey: Type.String(), providerUnitId: Type.String(), providerUnitName: Type.String(), status: StringEnum(STATUSES) }), Type.Null()],
    { description: 'The one authoritative resource; null while no visible resource claims the element.' },
  ),
  copies: Type.Array(Type.Object({ code: Type.String(), itemKey: Type.String() })),
});

export const DcatQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 5000, default: 1000, description: 'Datasets per page.' })),
    after: Type.Optional(Type.String({ ...CodeString, description: 'Continue after this code (what `hydra:next` says).' })),
    open: Type.Optional(Type.Boolean({ description: 'true: only resources open to the public (开放), what an open-data portal should harvest.' })),
  },
  { additionalProperties: false },
);

export const DcatSchema = Type.Object(
  { '@context': Type.Object({}, { additionalProperties: true }), '@id': Type.String(), '@type': Type.String(), 'dcat:dataset': Type.Array(Type.Object({}, { additionalProperties: true })) },
  { additionalProperties: true, description: 'A dcat:Catalog in JSON-LD (DCAT 3 / DCAT-AP vocabulary).' },
);
