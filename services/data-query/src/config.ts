import { Type } from '@sinclair/typebox';
import { CommonConfig, loadConfig } from '@gdx/config';

export const DataQueryConfigSchema = {
  ...CommonConfig,
  port: Type.Integer({ minimum: 0, maximum: 65535, default: 8083 }),
  gatewayUrl: Type.String({ default: 'http://127.0.0.1:8080', description: 'The gateway, for the unit directory and other synchronous reads.' }),
  queryPageLimit: Type.Integer({ minimum: 1, maximum: 1000, default: 100, description: 'Hard cap of rows per interface-query page.' }),
  queryInLimit: Type.Integer({ minimum: 1, maximum: 1000, default: 100, description: 'Most values an `in` condition may list.' }),
  auditInFlight: Type.Integer({ minimum: 1, maximum: 64, default: 4, description: 'Audit writes to Redis outstanding at once; events arriving meanwhile leave together in the next one.' }),
  pointLookupsInFlight: Type.Integer({
    minimum: 1,
    maximum: 200,
    default: 8,
    description: 'Row-key lookup statements outstanding at once per statement shape; lookups arriving meanwhile share the next one.',
  }),
  auditTimeoutMs: Type.Integer({ minimum: 50, default: 1000, description: 'How long a query waits for its audit event to be accepted before failing closed.' }),
  batchChunkRows: Type.Integer({ minimum: 1, maximum: 20_000, default: 2000, description: 'Rows per INSERT statement while a batch streams in.' }),
  batchMaxErrors: Type.Integer({ minimum: 1, maximum: 100_000, default: 1000, description: 'Rejected rows listed in one report (the total is always given).' }),
  batchMaxRecordBytes: Type.Integer({ minimum: 1024, default: 1_048_576, description: 'Largest single record (line) of a batch.' }),
  pullChunkRows: Type.Integer({
    minimum: 1,
    maximum: 50_000,
    default: 2000,
    description: 'Rows a data-call pull reads per statement (and holds in memory at once); the grant is decided again between chunks.',
  }),
  cacheResyncMs: Type.Integer({ minimum: 100, default: 30_000, description: 'Full reload of the grant and dataset caches, a safety net behind LISTEN/NOTIFY.' }),
};

export type DataQueryConfig = ReturnType<typeof loadDataQueryConfig>;

export function loadDataQueryConfig(env: Record<string, string | undefined> = process.env, overrides = {}) {
  return loadConfig(DataQueryConfigSchema, env, overrides);
}
