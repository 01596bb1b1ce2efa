import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { PageQuery } from '@gdx/service-kit';
import { RESULTS } from '../trail/audit-record.model';

const nullable = <T extends TSchema>(t: T, description?: string) => Type.Union([t, Type.Null()], description ? { description } : {});
const Hash = Type.String({ pattern: '^[0-9a-f]{64}$', description: 'SHA-256, hex' });

export const AuditRecordSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid', description: 'The event id; one record per event.' }),
    chain: Type.Integer({ minimum: 0, description: 'The hash chain the record is on.' }),
    position: Type.Integer({ minimum: 1, description: '1-based place on its chain.' }),
    type: Type.String({ description: 'The event type (the action), e.g. `auth.login_succeeded`.', examples: ['query.executed'] }),
    occurredAt: Type.String({ format: 'date-time' }),
    recordedAt: Type.String({ format: 'date-time' }),
    actor: Type.Object({ kind: Type.String(), unitId: nullable(Type.String()), accountId: nullable(Type.String()), clientId: nullable(Type.String()) }),
    subject: Type.String(),
    traceparent: nullable(Type.String()),
    resourceCode: nullable(Type.String()),
    grantId: nullable(Type.String()),
    route: nullable(Type.String()),
    mode: nullable(Type.String()),
    items: nullable(Type.Array(Type.String())),
    rowCount: nullable(Type.Integer()),
    result: nullable(Type.Union(RESULTS.map((r) => Type.Literal(r)))),
    latencyMs: nullable(Type.Number()),
    requestId: nullable(Type.String()),
    sourceAddress: nullable(Type.String()),
    ownerUnitId: nullable(Type.String(), 'The unit whose resource the call was about (the provider).'),
    data: Type.Record(Type.String(), Type.Unknown(), { description: 'The event’s data, as it was emitted.' }),
    originalSha256: Type.Optional(
      Type.String({
        pattern: '^[0-9a-f]{64}$',
        description:
          'Only on a record whose event held what PostgreSQL cannot store (NUL, a lone UTF-16 surrogate). Every string of such a record is escaped: `\\` as `\\\\`, NUL as `\\u0000`, a lone surrogate as `\\udxxx` (undo it by reading `\\\\` as `\\` and `\\uXXXX` as that UTF-16 code unit). This is the SHA-256 (hex) of `gdx-audit-original/1` and a line feed followed by the RFC 8785 canonical JSON of the record content before escaping (every field but chain, position, prevHash, hash and this one). The record hash covers it; the verifier checks it.',
      }),
    ),
    prevHash: Hash,
    hash: Hash,
  },
  { $id: 'AuditRecord' },
);

export const ChainHeadSchema = Type.Object({ chain: Type.Integer(), position: Type.Integer(), hash: Hash });

export const CheckpointSchema = Type.Object(
  {
    seq: Type.Integer({ minimum: 1 }),
    id: Type.String({ format: 'uuid' }),
    createdAt: Type.String({ format: 'date-time' }),
    size: Type.Integer({ minimum: 0, description: 'Records covered (sum of the heads’ positions).' }),
    heads: Type.Array(ChainHeadSchema),
    previousHash: Hash,
    keyId: Type.String({ description: 'Fingerprint of the Ed25519 public key that signed.' }),
    hash: Hash,
    signature: Type.String({ description: 'Ed25519 over the canonical JSON of the other fields, base64url.' }),
  },
  { $id: 'AuditCheckpoint' },
);

const ProblemSchema = Type.Object({
  code: Type.String({ examples: ['content-changed', 'missing-records', 'checkpoint-bad-signature'] }),
  detail: Type.String(),
  chain: Type.Optional(Type.Integer()),
  position: Type.Optional(Type.Integer()),
  recordId: Type.Optional(Type.String()),
  checkpointSeq: Type.Optional(Type.Integer()),
  checkpointId: Type.Optional(Type.String()),
});

export const VerificationReportSchema = Type.Object(
  {
    ok: Type.Boolean(),
    records: Type.Integer(),
    checkpoints: Type.Integer(),
    chains: Type.Array(Type.Object({ chain: Type.Integer(), records: Type.Integer(), headPosition: Type.Integer(), headHash: nullable(Type.String()) })),
    firstProblem: nullable(ProblemSchema),
    problems: Type.Array(ProblemSchema),
    verifiedAt: Type.String({ format: 'date-time' }),
  },
  { $id: 'AuditVerification' },
);

export const RecordQuery = Type.Object(
  {
    unitId: Type.Optional(Type.String({ maxLength: 100, description: 'The acting unit.' })),
    accountId: Type.Optional(Type.String({ maxLength: 100 })),
    clientId: Type.Optional(Type.String({ maxLength: 100 })),
    resourceCode: Type.Optional(Type.String({ maxLength: 200 })),
    grantId: Type.Optional(Type.String({ maxLength: 100 })),
    action: Type.Optional(Type.String({ maxLength: 100, pattern: '^[a-z][a-z-]*(\\.[a-z_.*-]*)?$', description: 'Event type, or `domain.*`.', examples: ['auth.login_failed', 'grant.*'] })),
    result: Type.Optional(Type.Union(RESULTS.map((r) => Type.Literal(r)))),
    requestId: Type.Optional(Type.String({ maxLength: 128, description: 'The HTTP request id (x-request-id) of the call.' })),
    subject: Type.Optional(Type.String({ maxLength: 200, description: 'What the event is about, e.g. a share request or grant id.' })),
    from: Type.Optional(Type.String({ format: 'date-time', description: 'Inclusive.' })),
    to: Type.Optional(Type.String({ format: 'date-time', description: 'Exclusive.' })),
    format: Type.Optional(
      Type.Union([Type.Literal('json'), Type.Literal('csv'), Type.Literal('ndjson')], { default: 'json', description: '`csv` and `ndjson` stream every matching record (no paging).' }),
    ),
    ...PageQuery,
  },
  { additionalProperties: false },
);
export type RecordQueryType = Static<typeof RecordQuery>;

export const CheckpointQuery = Type.Object(
  { limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })), beforeSeq: Type.Optional(Type.Integer({ minimum: 1 })) },
  { additionalProperties: false },
);
