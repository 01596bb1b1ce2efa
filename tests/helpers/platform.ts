import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { relative } from 'node:path';
import type { App } from '@gdx/service-kit';
import * as catalogue from '@gdx/catalogue';
import * as requestApproval from '@gdx/request-approval';
import * as dataQuery from '@gdx/data-query';
import * as audit from '@gdx/audit';
import { createTestDatabase, type TestDatabase } from './db';
import { deleteKeys, REDIS_URL, testPrefix } from './redis';
import { startGateway, type GatewayOverrides } from './gateway';
import { checkTrail, trailReport, type GatewayCall, type TrailCheckResult } from './trail';

export type ServiceName = 'catalogue' | 'request-approval' | 'data-query' | 'audit';

const builders = {
  catalogue: { load: catalogue.loadCatalogueConfig, build: catalogue.buildApp },
  'request-approval': { load: requestApproval.loadRequestApprovalConfig, build: requestApproval.buildApp },
  'data-query': { load: dataQuery.loadDataQueryConfig, build: dataQuery.buildApp },
  audit: { load: audit.loadAuditConfig, build: audit.buildApp },
} as const;

/** The first port the kernel hands out for outgoing connections (Linux; 32768 by default). */
function ephemeralLow(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > 0 ? low : 32768;
  } catch {
    return 32768;
  }
}

function bindable(port: number): Promise<number | null> {
  return new Promise((resolve) => {
    const s = createServer();
    s.unref();
    s.once('error', () => resolve(null));
    s.listen(port, '127.0.0.1', () => {
      const { port: bound } = s.address() as { port: number };
      s.close(() => resolve(bound));
    });
  });
}

/**
 * A port free now for a service to listen on shortly after. Chosen below the kernel's ephemeral
 * range: a port from that range (what `listen(0)` gives) can be taken meanwhile by any outgoing
 * connection of any test (pg, Redis, HTTP), which made `listen` fail with EADDRINUSE now and then.
 */
export async function freePort(): Promise<number> {
  const high = ephemeralLow() - 1;
  const low = Math.min(20_000, high - 1_000);
  if (low >= 1_024) {
    for (let attempt = 0; attempt < 50; attempt++) {
      const port = await bindable(low + Math.floor(Math.random() * (high - low + 1)));
      if (port) return port;
    }
  }
  const port = await bindable(0);
  if (!port) throw new Error('no free port');
  return port;
}

export interface TestPlatform {
  db: TestDatabase;
  prefix: string;
  gateway: App;
  gatewayUrl: string;
  services: Partial<Record<ServiceName, App>>;
  /** Every answer the gateway sent so far, in order (health and docs included). */
  calls: GatewayCall[];
  /** Publishes what every service's outbox holds now (records written before an answer reach Redis a moment after it). */
  publishOutboxes: () => Promise<void>;
  /** The §7 check of the calls so far (see tests/helpers/trail.ts); answers, never throws for what is missing. */
  checkTrail: (options?: { timeoutMs?: number }) => Promise<TrailCheckResult>;
  /** Runs the trail check (unless opted out), stops everything, and fails when a call is not on the record. */
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
  /**
   * close() checks that every gateway call is on the record (§7; tests/helpers/trail.ts).
   * A test that loses records on purpose (stops the audit service or Redis, trims streams)
   * opts out, saying why: `{ skip: 'the test deletes the call stream' }`. `timeoutMs`: how long
   * records may take to arrive (default 10 s).
   */
  trailCheck?: { skip: string } | { timeoutMs: number };
}

/** Addresses a service needs beyond the gateway's (its config refuses keys it does not know). */
function wiring(name: ServiceName, url: (n: ServiceName) => string): Record<string, unknown> {
  if (name === 'request-approval') return { catalogueUrl: url('catalogue') };
  // Its delivery-manifest keys in a directory of this platform's own, never the repository's .gdx/.
  if (name === 'data-query') return { manifestKeysDir: mkdtempSync(join(tmpdir(), 'gdx-manifest-keys-')) };
  return {};
}

export async function startPlatform(names: ServiceName[], options: PlatformOptions = {}): Promise<TestPlatform> {
  const t = options.trailCheck;
  const skipTrail = t && 'skip' in t ? t.skip : undefined;
  const trailTimeoutMs = t && 'timeoutMs' in t ? t.timeoutMs : undefined;
  if (skipTrail !== undefined && !skipTrail.trim()) throw new Error('trailCheck: { skip } needs the reason the test opts out of the trail check');
  const db = await createTestDatabase();
  const prefix = testPrefix();
  const gatewayPort = await freePort();
  const gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
  const ports: Record<string, number> = {};
  for (const n of names) ports[n] = await freePort();
  const url = (n: ServiceName) => (ports[n] ? `http://127.0.0.1:${ports[n]}` : 'http://127.0.0.1:9');
  const calls: GatewayCall[] = [];
  const gateway = await startGateway(
    db.url,
    prefix,
    {
      catalogueUrl: url('catalogue'),
      requestApprovalUrl: url('request-approval'),
      dataQueryUrl: url('data-query'),
      auditUrl: url('audit'),
      ...options.gateway,
    },
    (call) => calls.push(call),
  );
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
  const check = (o: { timeoutMs?: number } = {}) => checkTrail({ calls: [...calls], prefix, auditDatabaseUrl: names.includes('audit') ? db.url : undefined, ...o });
  return {
    db,
    prefix,
    gateway,
    gatewayUrl,
    services,
    calls,
    publishOutboxes: async () => {
      for (const app of [gateway, ...Object.values(services)]) if (app) await app.relay.drain();
    },
    checkTrail: check,
    close: async () => {
      // While everything still runs: records in flight still arrive.
      let failure: Error | undefined;
      if (skipTrail === undefined) {
        try {
          const result = await check({ timeoutMs: trailTimeoutMs });
          if (result.missing.length) failure = new Error(trailReport(result, relative(process.cwd(), expect.getState().testPath ?? 'this test file')));
        } catch (err) {
          failure = err instanceof Error ? err : new Error(String(err));
        }
      }
      for (const app of Object.values(services)) await app?.close();
      await gateway.close();
      await db.drop();
      await deleteKeys(prefix);
      if (failure) throw failure;
    },
  };
}
