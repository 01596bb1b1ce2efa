import { Type } from '@sinclair/typebox';
import { CommonConfig, loadConfig } from '@gdx/config';

export const DataQueryConfigSchema = {
  ...CommonConfig,
  port: Type.Integer({ minimum: 0, maximum: 65535, default: 8083 }),
  gatewayUrl: Type.String({ default: 'http://127.0.0.1:8080', description: 'The gateway, for the unit directory and other synchronous reads.' }),
  queryPageLimit: Type.Integer({ minimum: 1, maximum: 1000, default: 100, description: 'Hard cap of rows per interface-query page.' }),
  queryInLimit: Type.Integer({ minimum: 1, maximum: 1000, default: 100, description: 'Most values an `in` condition may list.' }),
  auditInFlight: Type.Integer({
    minimum: 1,
    maximum: 64,
    default: 4,
    description: 'Audit record inserts (into the outbox) outstanding at once; records arriving meanwhile go together in the next one.',
  }),
  pointLookupsInFlight: Type.Integer({
    minimum: 1,
    maximum: 200,
    default: 8,
    description: 'Row-key lookup statements outstanding at once per statement shape; lookups arriving meanwhile share the next one.',
  }),
  auditTimeoutMs: Type.Integer({ minimum: 50, default: 1000, description: 'How long a query waits for its audit record to be committed before failing closed (503).' }),
  batchChunkRows: Type.Integer({ minimum: 1, maximum: 20_000, default: 2000, description: 'Rows per INSERT statement while a batch streams in.' }),
  batchMaxErrors: Type.Integer({ minimum: 1, maximum: 100_000, default: 1000, description: 'Rejected rows listed in one report (the total is always given).' }),
  batchMaxRecordBytes: Type.Integer({ minimum: 1024, default: 1_048_576, description: 'Largest single record (line) of a batch.' }),
  pullChunkRows: Type.Integer({
    minimum: 1,
    maximum: 50_000,
    default: 2000,
    description: 'Rows a data-call pull reads per statement (and holds in memory at once); the grant is decided again between chunks.',
  }),
  manifestKeysDir: Type.String({
    default: '.gdx/manifest-keys',
    description:
      'Directory of the Ed25519 keys (<kid>.pem, PKCS#8) that sign push deliveries’ manifests; published in the gateway’s JWKS, never accepted for tokens. Mount a secret here in production.',
  }),
  generateKeys: Type.Boolean({ default: true, description: 'Create a manifest key when manifestKeysDir has none (development). Turn off in production.' }),
  pullReadAhead: Type.Integer({
    minimum: 1,
    maximum: 8,
    default: 2,
    description: 'Chunks of a full pull read at once (each on its own connection): PostgreSQL builds the next while the service sends the last.',
  }),
  webhookRequireHttps: Type.Boolean({ default: true, description: 'Push subscriptions: only https webhook URLs (turn off for tests and on-premises receivers only).' }),
  webhookAllow: Type.String({
    default: '',
    description: 'Push subscriptions: comma-separated CIDRs or exact host names that webhook URLs may reach although they are not public (loopback, private, link-local).',
  }),
  webhookRetryHours: Type.Number({ exclusiveMinimum: 0, default: 24, description: 'How long a failing delivery is retried after its first attempt before it is dead-lettered.' }),
  webhookRetryBaseMs: Type.Integer({ minimum: 1, default: 1000, description: 'Back-off of the first retry (doubled per attempt, full jitter).' }),
  webhookRetryCapMs: Type.Integer({ minimum: 1, default: 600_000, description: 'Longest back-off between two attempts.' }),
  webhookTimeoutMs: Type.Integer({ minimum: 10, default: 10_000, description: 'How long a receiver may take to answer a delivery.' }),
  webhookMaxRows: Type.Integer({ minimum: 1, maximum: 50_000, default: 1000, description: 'Rows and tombstones per delivery at most.' }),
  webhookConcurrency: Type.Integer({ minimum: 1, maximum: 256, default: 16, description: 'Deliveries one replica sends at once (each to another subscription).' }),
  webhookPollMs: Type.Integer({ minimum: 5, default: 500, description: 'How often an idle delivery worker looks for due deliveries.' }),
  webhookSweepMs: Type.Integer({
    minimum: 50,
    default: 30_000,
    description: 'How often subscriptions are caught up without a batch event (missed events, grants active again).',
  }),
  webhookSecretGraceHours: Type.Number({ minimum: 0, default: 24, description: 'After a secret rotation, deliveries are signed with the old secret too for this long.' }),
  jobWorkers: Type.Integer({ minimum: 0, maximum: 32, default: 2, description: 'Customization job chunks this replica works at once (0: it accepts jobs but leaves the work to other replicas).' }),
  jobChunkRecords: Type.Integer({
    minimum: 1,
    maximum: 1_000_000,
    default: 250_000,
    description:
      'Records a compare, filter or convert job works per chunk (one statement and transaction, one checkpoint; jobs take turns chunk by chunk). Each compare chunk reads the whole resource once (a hash join), so fewer, larger chunks are faster and more give finer progress; clean and normalize take at most 5,000 at a time (held in memory).',
  }),
  jobMaxRecords: Type.Integer({ minimum: 1, maximum: 10_000_000, default: 1_000_000, description: 'Most records one job takes (413 TOO_MANY_RECORDS beyond).' }),
  jobMaxInputBytes: Type.Integer({ minimum: 1024, default: 268_435_456, description: 'Largest job input upload (413 INPUT_TOO_LARGE beyond); the gateway’s jobInputLimitBytes must allow it.' }),
  jobMaxFields: Type.Integer({ minimum: 1, maximum: 1000, default: 200, description: 'Most distinct fields the records of a clean or normalize job may have.' }),
  jobUnitConcurrency: Type.Integer({ minimum: 1, maximum: 100, default: 4, description: 'Jobs of one unit waiting for input, queued or running at once (429 TOO_MANY_JOBS beyond).' }),
  jobResultTtlHours: Type.Number({ exclusiveMinimum: 0, default: 168, description: 'How long a succeeded job’s result is kept before it is deleted (the job becomes expired).' }),
  jobClaimIdleMs: Type.Integer({ minimum: 100, default: 30_000, description: 'A job chunk whose worker died is taken over by another worker after this long.' }),
  jobStallMs: Type.Integer({ minimum: 100, default: 120_000, description: 'A queued or running job without progress for this long is queued again (a lost ticket).' }),
  jobSweepMs: Type.Integer({ minimum: 20, default: 5_000, description: 'How often stalled jobs are re-queued, expired results deleted and ended jobs’ inputs dropped.' }),
  jobEventsPollMs: Type.Integer({ minimum: 20, default: 500, description: 'How often a job’s Server-Sent Events stream looks for progress.' }),
  cacheResyncMs: Type.Integer({ minimum: 100, default: 30_000, description: 'Full reload of the grant and dataset caches, a safety net behind LISTEN/NOTIFY.' }),
};

export type DataQueryConfig = ReturnType<typeof loadDataQueryConfig>;

export function loadDataQueryConfig(env: Record<string, string | undefined> = process.env, overrides = {}) {
  return loadConfig(DataQueryConfigSchema, env, overrides);
}
