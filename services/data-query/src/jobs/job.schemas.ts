import { Type, type Static } from '@sinclair/typebox';
import { JOB_KINDS, JOB_STATUSES, StringEnum } from '@gdx/contracts';
import { PageQuery } from '@gdx/service-kit';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);
const ItemKey = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z][A-Za-z0-9]{0,47}$' });
const ResourceCode = Type.String({ minLength: 3, maxLength: 64, examples: ['101001/0001'] });

export const JOB_FORMATS = ['ndjson', 'csv', 'json', 'xml'] as const;
export const JobFormat = StringEnum(JOB_FORMATS, { description: 'A result format: NDJSON, CSV (RFC 4180, header row), a JSON array or XML.' });

/** Normalisations a compare may apply to both sides before comparing text items. */
export const COMPARE_NORMALIZATIONS = ['trim', 'half-width', 'ignore-case'] as const;

/** Records given inline with the job (small inputs); larger ones are uploaded with `PUT …/input`. */
const InlineRecords = Type.Array(Type.Record(Type.String(), Type.Unknown()), {
  minItems: 1,
  maxItems: 10_000,
  description: 'The input records, given with the job (at most 10,000; upload larger inputs with `PUT /api/v1/jobs/{id}/input`). Without them the job waits for its upload.',
});

const Scalar = Type.Union([Type.String({ maxLength: 1000 }), Type.Number(), Type.Boolean()]);
export const JobConditionSchema = Type.Object(
  {
    item: ItemKey,
    op: StringEnum(['eq', 'ne', 'in', 'between', 'gt', 'gte', 'lt', 'lte', 'contains', 'startsWith', 'isNull', 'notNull'] as const),
    value: Type.Optional(Type.Union([Scalar, Type.Array(Scalar, { minItems: 1, maxItems: 1000 })])),
  },
  {
    additionalProperties: false,
    description: 'A condition on any granted item: `in` takes a list, `between` [from, to] inclusive, `contains` and `startsWith` text, `isNull` and `notNull` no value.',
  },
);
export type JobCondition = Static<typeof JobConditionSchema>;

const Common = {
  resourceCode: ResourceCode,
  resultFormat: Type.Optional(JobFormat),
};

export const CreateJobSchema = Type.Union(
  [
    Type.Object(
      {
        kind: Type.Literal('compare'),
        ...Common,
        parameters: Type.Object(
          {
            items: Type.Array(ItemKey, { minItems: 1, maxItems: 50, uniqueItems: true, description: 'The granted items to compare (the row key matches records and is not compared).' }),
            normalize: Type.Optional(
              Type.Array(StringEnum(COMPARE_NORMALIZATIONS), {
                uniqueItems: true,
                description: 'Applied to both the submitted and the stored text before comparing: `trim`, `half-width` (full-width → half-width), `ignore-case`.',
              }),
            ),
          },
          { additionalProperties: false },
        ),
        records: Type.Optional(InlineRecords),
      },
      { additionalProperties: false, title: 'Compare job (比对)' },
    ),
    Type.Object(
      {
        kind: Type.Literal('filter'),
        ...Common,
        parameters: Type.Object(
          {
            conditions: Type.Array(JobConditionSchema, { minItems: 1, maxItems: 20, description: 'All must hold.' }),
            items: Type.Optional(Type.Array(ItemKey, { minItems: 1, maxItems: 200, uniqueItems: true, description: 'Items of the result; default: every granted item.' })),
          },
          { additionalProperties: false },
        ),
      },
      { additionalProperties: false, title: 'Filter job (筛选)' },
    ),
    Type.Object(
      {
        kind: Type.Literal('clean'),
        ...Common,
        parameters: Type.Optional(
          Type.Object(
            {
              rules: Type.Optional(
                Type.Record(Type.String({ minLength: 1, maxLength: 64 }), StringEnum(['text', 'date', 'id-number', 'credit-code', 'region', 'none'] as const), {
                  description:
                    'Field → rule; fields not named take the rule their catalogue item implies (identity number, credit code, date, region code; else text), fields that are not items `text`.',
                }),
              ),
            },
            { additionalProperties: false },
          ),
        ),
        records: Type.Optional(InlineRecords),
      },
      { additionalProperties: false, title: 'Clean job (清洗)' },
    ),
    Type.Object(
      {
        kind: Type.Literal('normalize'),
        ...Common,
        parameters: Type.Optional(
          Type.Object(
            {
              fields: Type.Optional(
                Type.Record(Type.String({ minLength: 1, maxLength: 64 }), StringEnum(['GB/T 2260', 'GB/T 2261.1'] as const), {
                  description: 'Field → code table; default: the fields whose catalogue item declares one of these code tables.',
                }),
              ),
            },
            { additionalProperties: false },
          ),
        ),
        records: Type.Optional(InlineRecords),
      },
      { additionalProperties: false, title: 'Normalize job (规范化)' },
    ),
    Type.Object(
      {
        kind: Type.Literal('convert'),
        ...Common,
        parameters: Type.Object(
          {
            format: JobFormat,
            fromJob: Type.Optional(Type.String({ format: 'uuid', description: 'A succeeded job of the caller’s unit on this resource whose result to convert; default: the granted slice.' })),
            items: Type.Optional(Type.Array(ItemKey, { minItems: 1, maxItems: 200, uniqueItems: true, description: 'Items of the slice; default: every granted item.' })),
          },
          { additionalProperties: false },
        ),
      },
      { additionalProperties: false, title: 'Convert job' },
    ),
  ],
  { description: 'The job: its kind, the resource, the kind’s parameters and, for small inputs, the records.' },
);
export type CreateJob = Static<typeof CreateJobSchema>;

export const JobSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    unitId: Type.String({ format: 'uuid', description: 'The requesting unit.' }),
    kind: StringEnum(JOB_KINDS),
    resourceCode: Type.String(),
    grantId: Type.String({ format: 'uuid' }),
    status: StringEnum(JOB_STATUSES),
    source: StringEnum(['upload', 'slice', 'job'] as const),
    parameters: Type.Record(Type.String(), Type.Unknown(), { description: 'The parameters as applied (defaults filled in).' }),
    items: Type.Array(Type.String(), { description: 'The resource’s items the job reads.' }),
    columns: Type.Array(Type.String(), { description: 'The result’s columns, in order.' }),
    resultFormat: JobFormat,
    progress: Type.Object({ done: Type.Integer(), total: Nullable(Type.Integer()) }, { description: 'Records processed, of how many (null until known).' }),
    counts: Type.Record(Type.String(), Type.Integer(), { description: 'Records by verdict (compare) or outcome (clean, normalize: changed, unchanged, rejected / mapped, unmapped).' }),
    resultRecords: Type.Integer(),
    resultSha256: Nullable(Type.String({ description: 'SHA-256 (hex) of the result as NDJSON.' })),
    error: Nullable(Type.String()),
    createdAt: Type.String({ format: 'date-time' }),
    startedAt: Nullable(Type.String({ format: 'date-time' })),
    finishedAt: Nullable(Type.String({ format: 'date-time' })),
    expiresAt: Nullable(Type.String({ format: 'date-time', description: 'When the input and result are deleted.' })),
  },
  { $id: 'Job', description: 'A customization job (数据定制): its terms and progress, never its records.' },
);
export type JobView = Static<typeof JobSchema>;

export const JobParams = Type.Object({ id: Type.String({ format: 'uuid', description: 'The job’s id.' }) });
export const JobListQuery = Type.Object(
  {
    ...PageQuery,
    status: Type.Optional(StringEnum(JOB_STATUSES)),
    kind: Type.Optional(StringEnum(JOB_KINDS)),
    resourceCode: Type.Optional(ResourceCode),
  },
  { additionalProperties: false },
);
export const ResultQuery = Type.Object({ format: Type.Optional(JobFormat) }, { additionalProperties: false });
