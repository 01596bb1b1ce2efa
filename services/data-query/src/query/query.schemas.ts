import { Type } from '@sinclair/typebox';

export const QueryBodySchema = Type.Object(
  {
    where: Type.Record(Type.String({ pattern: '^[A-Za-z][A-Za-z0-9]{0,47}$' }), Type.Unknown(), {
      description: 'Conditions on declared query keys, all of which must hold: a value (equality), { "in": [values] } (at most 100) or { "gte": a, "lte": b } (dates and numbers only).',
      examples: [{ idNumber: '340302199001011234' }, { regionCode: { in: ['340302', '340303'] } }],
    }),
    items: Type.Optional(Type.Array(Type.String({ maxLength: 48 }), { minItems: 1, maxItems: 200, description: 'Items to return; all granted items when left out.' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 20, description: 'Rows per page; capped at the service’s page limit (100 by default).' })),
    cursor: Type.Optional(Type.String({ maxLength: 2000, description: 'nextCursor of the previous page.' })),
  },
  { additionalProperties: false },
);

export const QueryResultSchema = Type.Object({
  items: Type.Array(Type.Record(Type.String(), Type.Unknown()), { description: 'Rows with the requested items; personal items masked unless the grant says otherwise.' }),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
  grantId: Type.String({ format: 'uuid', description: 'The grant this answer was given under.' }),
});
