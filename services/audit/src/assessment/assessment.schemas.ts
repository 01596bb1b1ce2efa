import { Type } from '@sinclair/typebox';
import { PageQuery } from '@gdx/service-kit';

const Count = Type.Integer({ minimum: 0 });
const Share = Type.Number({ minimum: 0, maximum: 1 });
const ModeFigures = Type.Object({ calls: Count, rows: Count });
const ByMode = Type.Object({ interface: ModeFigures, 'data-call': ModeFigures, customization: ModeFigures });

export const PeriodParams = Type.Object({
  period: Type.String({
    pattern: '^\\d{4}(-Q[1-4]|-(0[1-9]|1[0-2]))?$',
    description: 'A year (2026), a quarter (2026-Q3) or a month (2026-07), in the city’s civil time.',
    examples: ['2026', '2026-Q3', '2026-07'],
  }),
});
export const UnitParams = Type.Object({ ...PeriodParams.properties, unit: Type.String({ format: 'uuid' }) });

export const FormatQuery = Type.Object(
  { format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('csv'), Type.Literal('xlsx'), Type.Literal('svg')], { description: 'Else by Accept; JSON by default.' })) },
  { additionalProperties: false },
);

export const UnitAssessmentSchema = Type.Object(
  {
    unitId: Type.String(),
    unitName: Type.String(),
    rank: Type.Integer({ minimum: 1 }),
    score: Type.Number({ minimum: 0, maximum: 100 }),
    catalogue: Type.Object({
      resourcesCatalogued: Count,
      resourcesPublished: Count,
      publishedShare: Share,
      byFormat: Type.Record(Type.String(), Count, { description: 'Resources catalogued at the period’s end by type (format).' }),
      byClass: Type.Record(Type.String(), Count, { description: 'By class (the first level of the classification).' }),
      recordsHeld: Type.Integer({ description: 'Records held at the period’s end (rows new or brought back, less rows deleted, since the start).' }),
    }),
    timeliness: Type.Object({
      resourcesAssessed: Count,
      resourcesTimely: Count,
      timelyShare: Share,
      daysOverdue: Type.Integer({ minimum: 0, description: 'Days beyond the update cycle, summed over resources.' }),
    }),
    requests: Type.Object({
      received: Count,
      answered: Count,
      answerDaysMedian: Type.Union([Type.Integer(), Type.Null()], { description: 'Working days.' }),
      answerDaysP90: Type.Union([Type.Integer(), Type.Null()], { description: 'Working days.' }),
      delayed: Count,
      refusedWithBasis: Count,
      refusedWithoutBasis: Count,
    }),
    usage: Type.Object({ given: ByMode, received: ByMode, givenCalls: Count, receivedCalls: Count }),
    cases: Type.Object({
      objectionsReceived: Count,
      objectionsAnsweredInTime: Count,
      objectionsOverdue: Count,
      complaintsReceived: Count,
      rectificationOrders: Count,
      circulars: Count,
    }),
    components: Type.Object({ publication: Share, timeliness: Share, responsiveness: Share, legality: Share, usage: Share, objections: Share }),
    penalties: Type.Number({ minimum: 0 }),
  },
  { $id: 'UnitAssessment' },
);

const PeriodSchema = Type.Object({ id: Type.String(), kind: Type.String(), first: Type.String({ format: 'date' }), last: Type.String({ format: 'date' }) });
const WeightsSchema = Type.Record(Type.String(), Type.Number(), { description: 'The weights the score was computed with (configuration `assessmentWeights`).' });

export const AssessmentSchema = Type.Object({ period: PeriodSchema, weights: WeightsSchema, units: Type.Array(Type.Ref('UnitAssessment')) });

export const EvidenceQuery = Type.Object(
  { metric: Type.String({ minLength: 1, maxLength: 80, description: 'A figure’s key, e.g. requests.answered, usage.given.calls.interface, resources.published, timeliness.' }), ...PageQuery },
  { additionalProperties: false },
);

export const EvidenceSchema = Type.Object({
  metric: Type.String(),
  period: PeriodSchema,
  unitId: Type.String(),
  items: Type.Array(
    Type.Object({
      id: Type.String({ description: 'The audit record (GET /api/v1/audit/records/{id}).' }),
      type: Type.String(),
      occurredAt: Type.String({ format: 'date-time' }),
      subject: Type.String(),
      amount: Type.Number({ description: 'What the record adds to the figure.' }),
    }),
  ),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
});
