import { Type, type Static } from '@sinclair/typebox';
import { GRANT_STATUSES, SERVICE_MODES, StringEnum } from '../enums';

const Scalar = Type.Union([Type.String({ minLength: 1, maxLength: 200 }), Type.Number()]);
const FilterKey = Type.String({ minLength: 1, maxLength: 64 });

/**
 * A row filter is data, never SQL text: a conjunction of conditions on the
 * resource's declared query keys. data-query compiles it to parameters; the
 * gateway can read it without parsing anything.
 */
export const RowFilterSchema = Type.Object(
  {
    all: Type.Array(
      Type.Union([
        Type.Object({ key: FilterKey, op: Type.Literal('eq'), value: Scalar }, { additionalProperties: false }),
        Type.Object({ key: FilterKey, op: Type.Literal('in'), value: Type.Array(Scalar, { minItems: 1, maxItems: 100 }) }, { additionalProperties: false }),
        Type.Object({ key: FilterKey, op: Type.Literal('between'), value: Type.Array(Scalar, { minItems: 2, maxItems: 2, description: '[from, to], inclusive' }) }, { additionalProperties: false }),
      ]),
      { minItems: 1, maxItems: 20 },
    ),
  },
  {
    $id: 'RowFilter',
    additionalProperties: false,
    description: 'Rows the grant covers: every condition must hold. Keys are the resource’s query keys; ops eq, in, between (inclusive).',
    examples: [{ all: [{ key: 'regionCode', op: 'eq', value: '340302' }] }],
  },
);
export type RowFilter = Static<typeof RowFilterSchema>;
export type RowCondition = RowFilter['all'][number];

/**
 * A grant (授权) as request-approval answers it and carries it, whole, in every
 * `grant.*` event: the gateway's cache and data-query's copy never call back.
 */
export const GrantViewSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    consumerUnitId: Type.String({ format: 'uuid' }),
    providerUnitId: Type.String({ format: 'uuid' }),
    resourceCode: Type.String({ minLength: 1 }),
    items: Type.Array(Type.String()),
    rowFilter: Type.Union([Type.Ref(RowFilterSchema), Type.Null()]),
    modes: Type.Array(StringEnum(SERVICE_MODES)),
    rateLimitPerSecond: Type.Integer({ minimum: 0 }),
    dailyQuota: Type.Integer({ minimum: 0, description: 'Per quota day (UTC+8): calls in the interface mode; rows and tombstones delivered in the data-call mode.' }),
    validFrom: Type.String({ format: 'date-time' }),
    validTo: Type.String({ format: 'date-time' }),
    purpose: Type.String(),
    requestId: Type.String({ format: 'uuid' }),
    status: StringEnum(GRANT_STATUSES),
    statusReason: Type.Union([Type.String(), Type.Null()]),
    /** Grows with every change of this grant, so a cache applying events can drop stale ones. */
    version: Type.Integer({ minimum: 1 }),
    /**
     * Items served in clear although their sensitivity would mask them (§6): `personal` items
     * when the grant lists them; `secret` items only with `clearLegalBasis`, recorded by the office.
     */
    clearItems: Type.Optional(Type.Array(Type.String())),
    clearLegalBasis: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    /** The grant that took this one's place (state `superseded`). */
    supersededBy: Type.Optional(Type.Union([Type.String({ format: 'uuid' }), Type.Null()])),
  },
  { $id: 'Grant' },
);
export type GrantView = Static<typeof GrantViewSchema>;
