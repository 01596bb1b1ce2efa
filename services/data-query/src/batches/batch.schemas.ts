import { Type } from '@sinclair/typebox';

export const CodeParams = Type.Object({ code: Type.String({ minLength: 3, maxLength: 64, description: 'Resource code, URL-encoded (101001%2F0001).', examples: ['101001/0001'] }) });

export const BatchResultSchema = Type.Object({
  resourceCode: Type.String(),
  changeSeq: Type.Integer({ description: 'The resource’s change sequence after this batch.' }),
  rows: Type.Integer({ description: 'Records in the batch.' }),
  upserted: Type.Integer(),
  deleted: Type.Integer(),
  unmatchedDeletes: Type.Integer({ description: 'Deletes naming a key that held no row (nothing to delete).' }),
  lastUpdatedAt: Type.String({ format: 'date-time' }),
});

export const BatchRejectedSchema = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    code: Type.Literal('BATCH_REJECTED'),
    detail: Type.String(),
    instance: Type.Optional(Type.String()),
    requestId: Type.Optional(Type.String()),
    rows: Type.Integer({ description: 'Records read.' }),
    errorCount: Type.Integer({ description: 'All problems found, listed or not.' }),
    truncated: Type.Boolean({ description: 'true when more problems were found than listed.' }),
    errors: Type.Array(Type.Object({ row: Type.Integer({ description: '1-based record number.' }), item: Type.Union([Type.String(), Type.Null()]), reason: Type.String() })),
  },
  { description: 'application/problem+json: the batch was refused whole; each listed row says which item failed and why.' },
);

const RECORDS = 'Records of item values keyed by item key, optionally with `op` (`upsert`, the default, or `delete` by the row key).';
export const BatchBodySchema = {
  content: {
    'application/x-ndjson': { schema: Type.Unknown({ description: `One JSON record per line. ${RECORDS}` }) },
    'text/csv': { schema: Type.Unknown({ description: `A header line of item keys, then one record per line (RFC 4180 quoting; empty fields are absent). ${RECORDS}` }) },
    'application/json': { schema: Type.Unknown({ description: `A JSON array of records. ${RECORDS}` }) },
  },
};
