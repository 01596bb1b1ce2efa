import '@fastify/swagger';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { App, OpenApiDoc } from '@gdx/service-kit';
import * as gateway from '@gdx/gateway';
import * as catalogue from '@gdx/catalogue';
import * as requestApproval from '@gdx/request-approval';
import * as dataQuery from '@gdx/data-query';
import * as audit from '@gdx/audit';
import { platformOpenapi } from '@gdx/gateway';

/**
 * The OpenAPI documents exactly as the code generates them: one per service and the
 * merged platform document the gateway serves. `openapi/` holds these; a test fails
 * when they drift.
 */
export async function buildOpenapiDocuments(databaseUrl: string, redisUrl: string): Promise<Record<string, OpenApiDoc>> {
  const common = { databaseUrl, redisUrl, migrateOnStart: false, logLevel: 'silent', databasePoolSize: 1 } as const;
  const apps: [string, () => Promise<App>][] = [
    ['gateway', () => gateway.buildApp({ config: gateway.loadGatewayConfig({}, { ...common, keysDir: mkdtempSync(join(tmpdir(), 'gdx-keys-')) }), logger: false })],
    ['catalogue', () => catalogue.buildApp({ config: catalogue.loadCatalogueConfig({}, common), logger: false })],
    ['request-approval', () => requestApproval.buildApp({ config: requestApproval.loadRequestApprovalConfig({}, common), logger: false })],
    ['data-query', () => dataQuery.buildApp({ config: dataQuery.loadDataQueryConfig({}, { ...common, manifestKeysDir: mkdtempSync(join(tmpdir(), 'gdx-manifest-keys-')) }), logger: false })],
    ['audit', () => audit.buildApp({ config: audit.loadAuditConfig({}, common), logger: false })],
  ];
  const docs: Record<string, OpenApiDoc> = {};
  for (const [name, build] of apps) {
    const app = await build();
    try {
      await app.ready();
      docs[name] = JSON.parse(JSON.stringify(app.swagger())) as OpenApiDoc;
    } finally {
      await app.close();
    }
  }
  const { gateway: own, ...others } = docs;
  docs.gdx = platformOpenapi(own, Object.values(others));
  return docs;
}

export function serialise(doc: OpenApiDoc): string {
  return `${JSON.stringify(doc, null, 2)}\n`;
}
