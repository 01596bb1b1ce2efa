import { Type, type Static } from '@sinclair/typebox';

/**
 * The audit service's question to data-query when it traces a sample of leaked rows
 * (`POST /api/v1/audit/trace`): for each delivery as the trail recorded it (`data.delivered`),
 * how many of the sample rows its slice held as it presented them.
 */
export const deliveryTracePath = (code: string) => `/api/v1/data/${encodeURIComponent(code)}/trace`;

export const DeliveryTraceRequestSchema = Type.Object(
  {
    deliveries: Type.Array(
      Type.Object(
        {
          deliveryId: Type.String({ format: 'uuid' }),
          grantId: Type.String({ format: 'uuid' }),
          items: Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 200 }),
          cursorFrom: Type.Union([Type.String({ maxLength: 400 }), Type.Null()]),
          cursorTo: Type.String({ maxLength: 400 }),
        },
        { additionalProperties: false },
      ),
      { minItems: 1, maxItems: 200 },
    ),
    rows: Type.Array(Type.Record(Type.String(), Type.Unknown()), { minItems: 1, maxItems: 100 }),
  },
  { additionalProperties: false },
);
export type DeliveryTraceRequest = Static<typeof DeliveryTraceRequestSchema>;

export const DeliveryTraceResultSchema = Type.Object({
  results: Type.Array(
    Type.Object({
      deliveryId: Type.String(),
      matched: Type.Integer({ description: 'Sample rows found in the delivery’s slice exactly as it presented them.' }),
      unchecked: Type.Optional(Type.String({ description: 'Why the delivery could not be checked.' })),
    }),
  ),
});
export type DeliveryTraceResult = Static<typeof DeliveryTraceResultSchema>;
