import { createBaseApp, type App } from '@gdx/service-kit';
import { KeyStore, ManifestSigner, revocationFeedPlugin, ServiceTokenIssuer, type KeyResolver } from '@gdx/auth';
import type { GatewayConfig } from './config';
import { gatewayDataSource } from './data-source';
import { TokenService } from './identity/token.service';
import { AuthService } from './identity/auth.service';
import { UnitService } from './identity/unit.service';
import { AccountService } from './identity/account.service';
import { ClientService } from './identity/client.service';
import { identityRoutes } from './identity/identity.routes';
import { authRoutes } from './identity/auth.routes';
import { proxyRoutes, upstreamsOf } from './proxy/upstreams';
import { MergedOpenapi } from './proxy/merged-openapi';
import { callRecords } from './proxy/call-record';
import { Gauge } from 'prom-client';
import { GrantCache, type Snapshot } from './grants/grant-cache';
import { QuotaCounter } from './grants/quota';
import { queryRoutes } from './grants/query.routes';
import { dataCallGuard, signedPulls } from './grants/data-call-guard';
import { ManifestKeys } from './identity/manifest-keys';

import { ResourceProviders } from './grants/resource-providers';
import { NoticeCache } from './maintenance/notice-cache';
import { maintenanceWindows } from './maintenance/maintenance.hook';

/** The gateway's own identity when it reads from other services (the grant snapshot). */
const PLATFORM_UNIT = '00000000-0000-0000-0000-000000000000';

declare module 'fastify' {
  interface FastifyInstance {
    grants: GrantCache;
    /** Maintenance notices not yet over, for the 503 of an announced window. */
    notices: NoticeCache;
    /** The gateway's current service token for internal channels (see @gdx/auth service-token). */
    serviceToken: () => string;
  }
}

export interface GatewayOptions {
  config: GatewayConfig;
  logger?: boolean;
  defaultMetrics?: boolean;
}

export { loadGatewayConfig, type GatewayConfig } from './config';

/** The edge: identity (units, accounts, clients, tokens, JWKS) and routing to the services. */
export async function buildApp({ config, logger, defaultMetrics }: GatewayOptions): Promise<App> {
  const keys = new KeyStore(config.keysDir, config.generateKeys, config.keysActivationDelayMs);
  keys.load();
  const keyFor: KeyResolver = async (kid) => keys.publicKey(kid);
  const upstreams = upstreamsOf(config);
  const app = await createBaseApp({
    name: 'gateway',
    config,
    logger,
    defaultMetrics,
    keyFor,
    dataSource: gatewayDataSource(config.databaseUrl, config.databasePoolSize),
    openapi: {
      title: 'GDX gateway',
      description: 'Identity and routing at the platform’s edge.',
      tags: [
        { name: 'identity', description: 'Units, accounts, business-system clients and tokens' },
        { name: 'data', description: 'Interface queries, decided at the gateway against the caller’s grants' },
      ],
    },
    openapiDocument: new MergedOpenapi(upstreams),
  });
  // Tokens of disabled accounts, revoked clients and changed passwords stop working here within a second.
  await app.register(revocationFeedPlugin, { redis: app.newRedis(), prefix: app.streamPrefix });

  const reload = setInterval(() => {
    try {
      keys.load();
    } catch (err) {
      app.log.error({ err }, 'signing keys could not be reloaded; keeping the previous set');
    }
  }, config.keysReloadMs);
  reload.unref();
  app.addHook('onClose', async () => clearInterval(reload));

  // Before the routes: every /api/v1 call is on the record (see callRecords).
  callRecords(app);
  // Announced maintenance windows answer 503 before any route decides (after the caller is known).
  const notices = new NoticeCache({ redis: app.newRedis(), prefix: config.streamPrefix, logger: app.log, loadSnapshot: () => readSnapshot('notices') });
  app.decorate('notices', notices);
  maintenanceWindows(app, notices);
  app.addHook('onReady', async () => notices.start());
  app.addHook('preClose', async () => notices.stop());

  const tokens = new TokenService(keys, { issuer: config.jwtIssuer, audience: config.jwtAudience, ttlSeconds: config.tokenTtlSeconds });
  const auth = new AuthService(app.db, app.events, tokens, { threshold: config.lockoutThreshold, minutes: config.lockoutMinutes });
  // data-query's delivery-manifest keys join the JWKS (never as token keys: see JwksClient).
  const manifestKeys = new ManifestKeys(config.dataQueryUrl, 30_000, app.log);
  app.addHook('onReady', async () => manifestKeys.start());
  app.addHook('onClose', async () => manifestKeys.stop());
  await app.register(authRoutes, { auth, keys, manifestKeys: () => manifestKeys.current() });
  await app.register(identityRoutes, { units: new UnitService(app.db, app.events), accounts: new AccountService(app.db, app.events), clients: new ClientService(app.db, app.events) });

  // The gateway's own reads of request-approval (grants, notices) as an auditor of the platform unit.
  const readSnapshot = async <T>(what: string): Promise<T> => {
    const { access_token } = tokens.issue({ kind: 'client', id: 'gateway', unitId: PLATFORM_UNIT, roles: ['office_auditor'] });
    const res = await fetch(`${config.requestApprovalUrl}/api/v1/${what}/snapshot`, { headers: { authorization: `Bearer ${access_token}` }, signal: AbortSignal.timeout(10_000) });
    if (!res.ok) throw new Error(`${what} snapshot answered ${res.status}`);
    return (await res.json()) as T;
  };
  const grants = new GrantCache({ redis: app.newRedis(), prefix: config.streamPrefix, logger: app.log, loadSnapshot: () => readSnapshot<Snapshot>('grants') });
  app.decorate('grants', grants);
  // Not a readiness check: identity and routing work without grants; queries fail closed meanwhile.
  new Gauge({
    name: 'gdx_gateway_grants',
    help: 'Grants held in memory (-1 until the snapshot is loaded)',
    registers: [app.metrics],
    collect() {
      this.set(grants.ready ? grants.size() : -1);
    },
  });
  new Gauge({
    name: 'gdx_gateway_grant_cache_age_seconds',
    help: 'Seconds since the grant stream last answered this replica (-1 until the snapshot is loaded): a revocation may be missed while it grows',
    registers: [app.metrics],
    collect() {
      this.set(grants.ready && grants.lastReadAt ? (Date.now() - grants.lastReadAt) / 1000 : -1);
    },
  });
  new Gauge({
    name: 'gdx_gateway_grant_events_skipped',
    help: 'Grant events and snapshot items the grant cache skipped as not what the contracts declare (the audit consumer dead-letters such events)',
    registers: [app.metrics],
    collect() {
      this.set(grants.skipped);
    },
  });
  app.addHook('onReady', async () => grants.start());
  app.addHook('preClose', async () => grants.stop());
  const serviceTokens = new ServiceTokenIssuer(() => keys.current(), config.jwtIssuer);
  app.decorate('serviceToken', () => serviceTokens.token());
  const resources = new ResourceProviders(app.newRedis(), config.streamPrefix, app.log);
  app.addHook('onReady', async () => resources.start());
  app.addHook('preClose', async () => resources.stop());
  await app.register(proxyRoutes, {
    upstreams,
    connectionTtlMs: config.upstreamConnectionTtlMs,
    bodyLimit: config.bodyLimitBytes,
    serviceToken: () => app.serviceToken(),
    guarded: [
      { method: 'GET', url: '/api/v1/data/:code/records', guard: dataCallGuard(grants, (code) => resources.providerOf(code)), ...signedPulls(new ManifestSigner(keys, config.jwtIssuer)) },
      // A job's input is decided by data-query (the job names its resource and grant); here it only gets its own size limit.
      { method: 'PUT', url: '/api/v1/jobs/:id/input', guard: async () => undefined, uploadLimit: config.jobInputLimitBytes },
    ],
  });
  const quota = new QuotaCounter(app.redis, config.streamPrefix);
  app.addHook('preClose', async () => quota.close());
  await app.register(queryRoutes, {
    dataQueryUrl: config.dataQueryUrl,
    grants,
    resources,
    quota,
    channel: { inFlight: config.queryBatchesInFlight, maxCalls: config.queryBatchMaxCalls, serviceToken: () => serviceTokens.token(), connectionTtlMs: config.upstreamConnectionTtlMs },
  });
  return app;
}
