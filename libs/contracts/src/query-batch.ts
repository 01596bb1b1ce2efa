import { Type, type Static } from '@sinclair/typebox';

/** Rows per page of an interface query: what is documented is what is enforced. */
export const QUERY_PAGE_LIMIT = 100;

/** The body of `POST /api/v1/query/{code}`, as the gateway takes it and data-query answers it. */
export const QueryBodySchema = Type.Object(
  {
    where: Type.Record(Type.String({ pattern: '^[A-Za-z][A-Za-z0-9]{0,47}$' }), Type.Unknown(), {
      description:
        'Conditions on declared query keys the grant covers (a condition on an ungranted item is 403 ITEM_NOT_GRANTED), all of which must hold: a value (equality), { "in": [values] } (at most 100) or { "gte": a, "lte": b } (dates and numbers only).',
      examples: [{ idNumber: '11010519491231002X' }, { regionCode: { in: ['340302', '340303'] } }],
    }),
    items: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 48 }), { minItems: 1, maxItems: 200, description: 'Items to return; all granted items when left out.' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: QUERY_PAGE_LIMIT, default: 20, description: `Rows per page (at most ${QUERY_PAGE_LIMIT}).` })),
    cursor: Type.Optional(Type.String({ maxLength: 2000, description: 'nextCursor of the previous page.' })),
  },
  { additionalProperties: false },
);
export type QueryBody = Static<typeof QueryBodySchema>;

export const QueryResultSchema = Type.Object({
  items: Type.Array(Type.Record(Type.String(), Type.Unknown()), {
    description:
      'Rows with the requested items. Personal and secret items are masked as the catalogue declares (`mask`) unless the grant lists them as clear (secret ones only with an office-recorded legal basis); decimals are strings with their declared `scale`.',
  }),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
  grantId: Type.String({ format: 'uuid', description: 'The grant this answer was given under.' }),
});
export type QueryResult = Static<typeof QueryResultSchema>;

export const QUERY_BATCH_PATH = '/internal/v1/query-batches';
export const QUERY_BATCH_MAX_CALLS = 256;
/** data-query takes batches of up to 4 MiB; the gateway closes a batch well before that. */
export const QUERY_BATCH_MAX_BYTES = 4 * 1_048_576;

/** One interface query carried in a batch from the gateway to data-query: what the caller sent, as the gateway received it. */
export const BatchedCallSchema = Type.Object(
  {
    code: Type.String({ minLength: 1, maxLength: 64, description: 'Resource code (not URL-encoded); one that names no resource is refused for that call alone.', examples: ['101001/0001'] }),
    authorization: Type.String({ maxLength: 8192, description: 'The caller’s own `Authorization` header (`Bearer <token>`); verified like a header of a single call.' }),
    requestId: Type.String({ minLength: 1, maxLength: 128, description: 'The caller’s request id: it is on the audit record and in any problem.' }),
    sourceAddress: Type.Optional(Type.String({ maxLength: 64, description: 'The caller’s address as the gateway saw it.' })),
    traceparent: Type.Optional(Type.String({ maxLength: 128 })),
    body: Type.Unknown({ description: 'The query, as for `POST /api/v1/query/{code}`; validated per call.' }),
  },
  { additionalProperties: false },
);
export type BatchedCall = Static<typeof BatchedCallSchema>;

export const QueryBatchSchema = Type.Object({ calls: Type.Array(BatchedCallSchema, { minItems: 1, maxItems: QUERY_BATCH_MAX_CALLS }) }, { additionalProperties: false });
export type QueryBatch = Static<typeof QueryBatchSchema>;

export const BatchedResultSchema = Type.Object({
  status: Type.Integer({ description: 'What the call would have answered on its own.' }),
  headers: Type.Optional(Type.Record(Type.String(), Type.String())),
  body: Type.Unknown({ description: 'The query result (status 200) or a problem document.' }),
});
export type BatchedResult = Static<typeof BatchedResultSchema>;

export const QueryBatchResultSchema = Type.Object({ results: Type.Array(BatchedResultSchema, { description: 'One result per call, in the order of the calls.' }) });
export type QueryBatchResult = Static<typeof QueryBatchResultSchema>;

/**
 * The response header in which a service tells the gateway, and only the gateway (its service
 * token), which unit owns the object a call reached: the gateway takes it off the answer and puts
 * it on the call's record, so the owner sees the call too (§7).
 */
export const OWNER_UNIT_HEADER = 'gdx-owner-unit';
