import { Type, type Static } from '@sinclair/typebox';
import { PageQuery } from '@gdx/service-kit';
import { SERVICE_MODES, StringEnum, type RowFilter } from '@gdx/contracts';
import { filingFormSchema } from './filing-form';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);
const DateTime = Type.String({ format: 'date-time' });

export const ServiceModeSchema = StringEnum(SERVICE_MODES, { description: '接口查询 / 数据调用 / 数据定制' });
export const RequestStatusSchema = Type.Union([
  Type.Literal('awaiting_filing'),
  Type.Literal('provider_review'),
  Type.Literal('office_review'),
  Type.Literal('granted'),
  Type.Literal('refused'),
  Type.Literal('withdrawn'),
]);
const TrackSchema = Type.Union(
  ['unconditional', 'conditional', 'none', 'uncatalogued'].map((s) => Type.Literal(s)),
  { description: 'How the request is decided: the resource’s sharing type, or uncatalogued for an out-of-catalogue need.' },
);
const ItemKey = Type.String({ minLength: 1, maxLength: 64 });

export const AttachmentSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 255 }),
    size: Type.Integer({ minimum: 0, maximum: 1_073_741_824 }),
    sha256: Type.String({ pattern: '^[0-9a-f]{64}$', description: 'Lower-case hex SHA-256 of the file; the file itself is kept elsewhere.' }),
    mediaType: Type.String({ pattern: '^[A-Za-z0-9!#$&^_.+-]{1,127}/[A-Za-z0-9!#$&^_.+-]{1,127}$', examples: ['application/pdf'] }),
  },
  { additionalProperties: false },
);

export const FileRequestSchema = Type.Object(
  {
    resourceCode: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'Catalogue resource code; leave out for an out-of-catalogue need.', examples: ['101001/0001'] })),
    need: Type.Optional(Type.String({ minLength: 1, maxLength: 4000, description: 'Out of catalogue: the data needed, in words.' })),
    providerUnitId: Type.Optional(Type.String({ format: 'uuid', description: 'Out of catalogue: the unit asked to provide it. Taken from the catalogue otherwise.' })),
    items: Type.Array(ItemKey, { minItems: 1, maxItems: 200, description: 'Item keys wanted (out of catalogue: the applicant’s own names).' }),
    clearItems: Type.Optional(
      Type.Array(ItemKey, {
        maxItems: 200,
        description:
          'Items among `items` wanted in clear, for the purpose stated (§6): `personal` items are otherwise masked; `secret` items leave in clear only on the conditional track, with a legal basis the office records when confirming, and never on an unconditional filing.',
      }),
    ),
    serviceMode: ServiceModeSchema,
    purpose: Type.String({ minLength: 1, maxLength: 2000 }),
    dutyBasis: Type.String({ minLength: 1, maxLength: 2000, description: 'The statutory duty the data serves (履职依据).' }),
    expectedVolume: Type.Integer({ minimum: 1, maximum: 1_000_000_000, description: 'Expected records or calls per day.' }),
    validFrom: DateTime,
    validTo: DateTime,
    attachments: Type.Optional(Type.Array(AttachmentSchema, { maxItems: 20 })),
  },
  { additionalProperties: false },
);
export type FileRequestInput = Static<typeof FileRequestSchema>;

export const TermsSchema = Type.Object(
  {
    resourceCode: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'Out of catalogue: the resource that serves the need.' })),
    items: Type.Optional(Type.Array(ItemKey, { minItems: 1, maxItems: 200 })),
    clearItems: Type.Optional(
      Type.Array(ItemKey, {
        maxItems: 200,
        description: 'Items granted in clear: among the items granted and (for catalogue resources) those asked in clear. Left out: what was asked, within the items granted.',
      }),
    ),
    rowFilter: Type.Optional(Type.Unsafe<RowFilter>(Type.Ref('RowFilter'))),
    rateLimitPerSecond: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
    dailyQuota: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000_000 })),
    validFrom: Type.Optional(DateTime),
    validTo: Type.Optional(DateTime),
  },
  { additionalProperties: false, description: 'What is granted; each field may only narrow what was asked.' },
);
export type TermsInput = Static<typeof TermsSchema>;

export const ReviewSchema = Type.Object(
  {
    decision: Type.Union([Type.Literal('approve'), Type.Literal('refuse')]),
    terms: Type.Optional(TermsSchema),
    legalBasis: Type.Optional(Type.String({ minLength: 1, maxLength: 2000, description: 'Required to refuse: sharing is the rule, refusal the exception.' })),
    comment: Type.Optional(Type.String({ maxLength: 2000 })),
  },
  { additionalProperties: false },
);
export type ReviewInput = Static<typeof ReviewSchema>;

export const ConfirmSchema = Type.Object(
  {
    decision: Type.Union([Type.Literal('confirm'), Type.Literal('return'), Type.Literal('refuse')], {
      description: 'confirm the provider’s answer (or, for a resource not shared, grant an exception); return it to the provider; or refuse.',
    }),
    legalBasis: Type.Optional(Type.String({ minLength: 1, maxLength: 2000, description: 'Required to refuse, and to grant an exception for a resource that is not shared.' })),
    comment: Type.Optional(Type.String({ maxLength: 2000, description: 'Required to return.' })),
    clearLegalBasis: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 2000,
        description:
          'Required to confirm a grant that serves `secret` items in clear (400 LEGAL_BASIS_REQUIRED without it; return the request to the provider to drop them instead). Recorded on the grant.',
      }),
    ),
    terms: Type.Optional(TermsSchema),
  },
  { additionalProperties: false },
);
export type ConfirmInput = Static<typeof ConfirmSchema>;

export const WithdrawSchema = Type.Object({ reason: Type.Optional(Type.String({ maxLength: 2000 })) }, { additionalProperties: false });

export function filingSchema() {
  return Type.Object(
    {
      form: filingFormSchema(),
      commitment: Type.Object(
        {
          version: Type.String({ minLength: 1, maxLength: 50 }),
          text: Type.Optional(Type.String({ maxLength: 20_000, description: 'The exact text shown to the signer.' })),
          sha256: Type.Optional(Type.String({ pattern: '^[0-9a-fA-F]{64}$', description: 'Or its SHA-256 (hex).' })),
        },
        { additionalProperties: false, description: 'Acceptance of the commitment (承诺书), signed by the calling account.' },
      ),
    },
    { additionalProperties: false },
  );
}
export interface FilingInput {
  form: Record<string, unknown>;
  commitment: { version: string; text?: string; sha256?: string };
}

export const RequestFilterSchema = Type.Object(
  {
    delayed: Type.Optional(Type.Boolean({ description: 'true: only requests flagged as delayed provision.' })),
    status: Type.Optional(RequestStatusSchema),
    role: Type.Optional(Type.Union([Type.Literal('applicant'), Type.Literal('provider')], { description: 'Only requests the caller’s unit filed, or only those addressed to it.' })),
    applicant: Type.Optional(Type.String({ format: 'uuid' })),
    provider: Type.Optional(Type.String({ format: 'uuid' })),
    resourceCode: Type.Optional(Type.String({ maxLength: 64 })),
    ...PageQuery,
  },
  { additionalProperties: false },
);
export type RequestFilter = Static<typeof RequestFilterSchema>;

export const TransitionSchema = Type.Object({
  action: Type.String(),
  from: Nullable(Type.String()),
  to: Type.String(),
  actorKind: Type.String(),
  actorUnitId: Nullable(Type.String()),
  actorId: Nullable(Type.String()),
  at: DateTime,
  reason: Nullable(Type.String()),
});

const StoredTerms = Type.Object({
  resourceCode: Type.Optional(Type.String()),
  items: Type.Optional(Type.Array(Type.String())),
  clearItems: Type.Optional(Type.Array(Type.String())),
  rowFilter: Type.Optional(Nullable(Type.Ref('RowFilter'))),
  rateLimitPerSecond: Type.Optional(Type.Integer()),
  dailyQuota: Type.Optional(Type.Integer()),
  validFrom: Type.Optional(Type.String()),
  validTo: Type.Optional(Type.String()),
});

export const RequestSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    applicantUnitId: Type.String({ format: 'uuid' }),
    filedBy: Type.String(),
    track: TrackSchema,
    resourceCode: Nullable(Type.String()),
    resourceName: Nullable(Type.String()),
    resourceVersion: Nullable(Type.Integer()),
    providerUnitId: Type.String({ format: 'uuid' }),
    need: Nullable(Type.String()),
    items: Type.Array(Type.String()),
    clearItems: Type.Array(Type.String(), { description: 'Items asked for in clear.' }),
    serviceMode: ServiceModeSchema,
    purpose: Type.String(),
    dutyBasis: Type.String(),
    expectedVolume: Type.Integer(),
    validFrom: DateTime,
    validTo: DateTime,
    attachments: Type.Array(AttachmentSchema),
    status: RequestStatusSchema,
    submittedAt: Nullable(DateTime),
    providerDeadline: Nullable(Type.String({ format: 'date-time', description: 'The provider answers before this instant (working days, see the calendar).' })),
    delayed: Type.Boolean({ description: 'The provider missed a deadline (delayed provision).' }),
    delayedAt: Nullable(DateTime),
    review: Nullable(
      Type.Object({
        decision: Type.Union([Type.Literal('approve'), Type.Literal('refuse')]),
        unitId: Type.String(),
        by: Type.String(),
        at: Type.String(),
        terms: Type.Optional(StoredTerms),
        legalBasis: Type.Optional(Type.String()),
        comment: Type.Optional(Type.String()),
      }),
    ),
    officeDecision: Nullable(
      Type.Object({
        decision: Type.Union([Type.Literal('confirm'), Type.Literal('return'), Type.Literal('refuse')]),
        by: Type.String(),
        at: Type.String(),
        legalBasis: Type.Optional(Type.String()),
        clearLegalBasis: Type.Optional(Type.String()),
        comment: Type.Optional(Type.String()),
      }),
    ),
    grantId: Nullable(Type.String({ format: 'uuid' })),
    closedAt: Nullable(DateTime),
    version: Type.Integer(),
    createdAt: DateTime,
    updatedAt: DateTime,
  },
  { $id: 'Request' },
);

export const RequestDetailSchema = Type.Intersect([
  Type.Ref('Request'),
  Type.Object({
    filing: Nullable(
      Type.Object({
        form: Type.Record(Type.String(), Type.Unknown(), { description: 'The record form (备案表) as filed.' }),
        commitment: Nullable(Type.Object({ signerAccountId: Type.String(), acceptedAt: DateTime, version: Type.String(), sha256: Type.String() })),
      }),
    ),
    transitions: Type.Array(TransitionSchema),
  }),
]);

export const CommitmentSchema = Type.Object({ version: Type.String(), title: Type.String(), text: Type.String(), sha256: Type.String({ description: 'SHA-256 (hex) of the UTF-8 text.' }) });
