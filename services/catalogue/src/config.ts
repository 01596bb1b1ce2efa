import { Type } from '@sinclair/typebox';
import { CommonConfig, loadConfig } from '@gdx/config';

export const CatalogueConfigSchema = {
  ...CommonConfig,
  port: Type.Integer({ minimum: 0, maximum: 65535, default: 8081 }),
  gatewayUrl: Type.String({ default: 'http://127.0.0.1:8080', description: 'The gateway, for the unit directory and other synchronous reads.' }),
  unitLookupTimeoutMs: Type.Integer({ minimum: 100, default: 3000, description: 'How long a provider unit lookup at the gateway may take.' }),
  publicBaseUrl: Type.String({ default: 'http://127.0.0.1:8080', description: 'The platform’s public address, used for the @id of resources in the DCAT export.' }),
};

export type CatalogueConfig = ReturnType<typeof loadCatalogueConfig>;

export function loadCatalogueConfig(env: Record<string, string | undefined> = process.env, overrides = {}) {
  return loadConfig(CatalogueConfigSchema, env, overrides);
}
