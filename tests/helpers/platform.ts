import { createServer } from 'node:net';
import type { App } from '@gdx/service-kit';
import * as catalogue from '@gdx/catalogue';
import * as requestApproval from '@gdx/request-approval';
import * as dataQuery from '@gdx/data-query';
import * as audit from '@gdx/audit';
import { createTestDatabase, type TestDatabase } from './db';
import { deleteKeys, REDIS_URL, testPrefix } from './redis';
import { startGateway, type GatewayOverrides } from './gateway';

export type ServiceName = 'catalogue' | 'request-approval' | 'data-query' | 'audit';

const builders = {
  catalogue: { load: catalogue.loadCatalogueConfig, build: catalogue.buildApp },
  'request-approval': { load: requestApproval.loadRequestApprovalConfig, build: requestApproval.buildApp },
  'data-query': { load: dataQuery.loadDataQueryConfig, build: dataQuery.buildApp },
  audit: { load: audit.loadAuditConfig, build: audit.buildApp },
} as const;

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export interface TestPlatform {
  db: TestDatabase;
  prefix: string;
  gateway: App;
  gatewayUrl: string;
  services: Partial<Record<ServiceName, App>>;
  close: () => Promise<void>;
}

/**
 * A gateway and the named services, really listening on loopback ports, sharing one
 * fresh database and one Redis prefix: requests go through the gateway with real
 * tokens, services verify them against the gateway's JWKS over HTTP.
 */
export interface PlatformOptions {
  gateway?: GatewayOverrides;
  /** Config overrides for every service. */
  service?: Record<string, unknown>;
  /** Config overrides for one service. */
  config?: Partial<Record<ServiceName, Record<string, unknown>>>;
  /** buildApp options for one service (e.g. a clock). */
  app?: Partial<Record<ServiceName, Record<string, unknown>>>;
}

/** Addresses a service needs beyond the gateway's (its config refuses keys it does not know). */
function wiring(name: ServiceName, url: (n: ServiceName) => string): Record<string, unknown> {
  return name === 'request-approval' ? { catalogueUrl: url('catalogue') } : {};
}

export async function startPlatform(names: ServiceName[], options: PlatformOptions = {}): Promise<TestPlatform> {
  const db = await createTestDatabase();
  const prefix = testPrefix();
  const gatewayPort = await freePort();
  const gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
  const ports: Record<string, number> = {};
  for (const n of names) ports[n] = await freePort();
  const url = (n: ServiceName) => (ports[n] ? `http://127.0.0.1:${ports[n]}` : 'http://127.0.0.1:9');
  const gateway = await startGateway(db.url, prefix, {
    catalogueUrl: url('catalogue'),
    requestApprovalUrl: url('request-approval'),
    dataQueryUrl: url('data-query'),
    auditUrl: url('audit'),
    ...options.gateway,
  });
  await gateway.listen({ host: '127.0.0.1', port: gatewayPort });
  const services: Partial<Record<ServiceName, App>> = {};
  for (const n of names) {
    const b = builders[n];
    const config = b.load(
      {},
      {
        databaseUrl: db.url,
        redisUrl: REDIS_URL,
        streamPrefix: prefix,
        migrateOnStart: false,
        logLevel: 'silent',
        databasePoolSize: 4,
        jwksUrl: `${gatewayUrl}/.well-known/jwks.json`,
        gatewayUrl,
        ...wiring(n, url),
        ...options.service,
        ...options.config?.[n],
      },
    );
    const app = await b.build({ config, logger: false, ...options.app?.[n] } as never);
    await app.listen({ host: '127.0.0.1', port: ports[n] });
    services[n] = app;
  }
  return {
    db,
    prefix,
    gateway,
    gatewayUrl,
    services,
    close: async () => {
      for (const app of Object.values(services)) await app?.close();
      await gateway.close();
      await db.drop();
      await deleteKeys(prefix);
    },
  };
}
