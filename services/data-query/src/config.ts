import { Type } from '@sinclair/typebox';
import { CommonConfig, loadConfig } from '@gdx/config';

export const DataQueryConfigSchema = {
  ...CommonConfig,
  port: Type.Integer({ minimum: 0, maximum: 65535, default: 8083 }),
  gatewayUrl: Type.String({ default: 'http://127.0.0.1:8080', description: 'The gateway, for the unit directory and other synchronous reads.' }),
};

export type DataQueryConfig = ReturnType<typeof loadDataQueryConfig>;

export function loadDataQueryConfig(env: Record<string, string | undefined> = process.env, overrides = {}) {
  return loadConfig(DataQueryConfigSchema, env, overrides);
}
