import type { Pool } from 'pg';
import { createBaseApp, operationDoc, reportOwnerUnit, type App } from '@gdx/service-kit';
import { createServiceTokenVerifier, JwksClient, JwksSchema, KeyStore, ManifestSigner, revocationFeedPlugin, type KeyResolver } from '@gdx/auth';
import type { EntityManager } from 'typeorm';
import { idempotent, OutboxWriter, WorkQueue } from '@gdx/events';
import { eventHandlers, isEventOf, type EventOf, MANIFEST_KEYS_PATH } from '@gdx/contracts';
import type { DataQueryConfig } from './config';
import { dataQueryDataSource } from './data-source';
import { DatasetRegistry } from './datasets/dataset-registry';
import { DatasetService, RESOURCE_EVENTS } from './datasets/dataset.service';
import { RESULT_TYPES } from './datasets/item-values';
import { GrantCache } from './grants/grant-cache';
import { GRANT_EVENTS, GrantService, type GrantEventType } from './grants/grant.service';
import { ChangeListener } from './shared/change-listener';
import { BatchService } from './batches/batch.service';
import { batchRoutes } from './batches/batch.routes';
import { AuditEmitter } from './query/audit-emitter';
import { QueryPlanner } from './query/query-planner';
import { KeyDigester } from './query/key-digest';
import { QueryService } from './query/query.service';
import { PointBatcher } from './query/point-batcher';
import { queryRoutes } from './query/query.routes';
import { QueryBatchService } from './query/query-batch.service';
import { DataCallService } from './data-call/data-call.service';
import { dataCallRoutes } from './data-call/data-call.routes';
import { RowQuota } from './data-call/row-quota';
import { SubscriptionService } from './subscriptions/subscription.service';
import { subscriptionRoutes } from './subscriptions/subscription.routes';
import { DeliveryWorker } from './subscriptions/delivery-worker';
import type { Resolver } from './subscriptions/webhook-target';
import { JobRunner } from './jobs/job-runner';
import { JobService } from './jobs/job.service';
import { jobRoutes } from './jobs/job.routes';

export { loadDataQueryConfig, type DataQueryConfig } from './config';

export interface DataQueryOptions {
  config: DataQueryConfig;
  logger?: boolean;
  defaultMetrics?: boolean;
  /** Token keys; defaults to the gateway's JWKS at config.jwksUrl. */
  keyFor?: KeyResolver;
  /** How webhook host names are resolved for the SSRF check (tests: names that resolve to chosen addresses). */
  webhookResolver?: Resolver;
}

/** What tests, benchmarks and operators may reach inside a running data-query. */
export interface DataQueryInternals {
  datasets: DatasetRegistry;
  grants: GrantCache;
  audit: AuditEmitter;
  points: PointBatcher;
  subscriptions: SubscriptionService;
  deliveries: DeliveryWorker;
  jobs: JobRunner;
}

declare module 'fastify' {
  interface FastifyInstance {
    dataQuery: DataQueryInternals;
  }
}

const GROUP = 'data-query';

/** Provider data, interface queries, data calls and customised jobs. */
export async function buildApp({ config, logger, defaultMetrics, keyFor: givenKeyFor, webhookResolver }: DataQueryOptions): Promise<App> {
  // Shared by bearer tokens and the gateway's service token (which alone may set a caller's source address).
  const keyFor = givenKeyFor ?? new JwksClient(config.jwksUrl).resolver();
  const app = await createBaseApp({
    name: 'data-query',
    config,
    logger,
    defaultMetrics,
    keyFor,
    dataSource: dataQueryDataSource(config.databaseUrl, config.databasePoolSize),
    openapi: {
      title: 'GDX data-query',
      description: 'Provider data, interface queries, data calls and customised jobs.',
      tags: [
        { name: 'data', description: 'Data submission and the three service modes' },
        { name: 'internal', description: 'Service-to-service routes that the gateway does not expose' },
      ],
    },
  });
  // Tokens of disabled accounts, revoked clients and changed passwords stop working here within a second.
  await app.register(revocationFeedPlugin, { redis: app.newRedis(), prefix: app.streamPrefix });

  // The hot paths use the pg pool under TypeORM directly: prepared statements, no entity mapping.
  const pool = (app.db.driver as unknown as { master: Pool }).master;
  const datasets = new DatasetRegistry(pool);
  const fromGateway = createServiceTokenVerifier({ issuer: config.jwtIssuer, keyFor });
  // The audit record of a call on a resource's data is its provider's too (§7): on the gateway's word
  // only, the answer names the provider when it is not the caller's unit (the gateway records it).
  reportOwnerUnit(app, {
    routePrefix: '/api/v1/data/:code',
    fromGateway,
    ownerOf: (req) => {
      const code = (req.params as { code?: unknown } | undefined)?.code;
      return typeof code === 'string' ? datasets.get(code)?.providerUnitId : undefined;
    },
  });
  const grants = new GrantCache(pool);
  const listener = new ChangeListener({
    url: config.databaseUrl,
    resyncMs: config.cacheResyncMs,
    logger: app.log,
    onResync: async () => {
      await Promise.all([datasets.loadAll(), grants.loadAll()]);
    },
    onChange: async (kind, id) => {
      if (kind === 'grant') await grants.reload(id);
      else if (kind === 'dataset') await datasets.reload(id);
    },
  });

  // Resource and grant events (validated against the contracts on arrival; an invalid
  // one is dead-lettered before it gets here): the table is written in the consumer's
  // transaction; this replica's cache follows right after the commit, the others on the NOTIFY.
  const datasetService = new DatasetService(app.log.child({ component: 'datasets' }));
  const applyResources = idempotent(
    app.db,
    GROUP,
    eventHandlers<EntityManager>({
      'resource.published': (e, m) => datasetService.store(m, e.data),
      'resource.updated': (e, m) => datasetService.store(m, e.data),
      'resource.deprecated': (e, m) => datasetService.deprecate(m, e.data),
    }),
  );
  app.addConsumer({
    domains: ['resource'],
    group: GROUP,
    handleBatch: async (events) => {
      await applyResources(events);
      for (const code of new Set(events.flatMap((e) => (isEventOf(e, ...RESOURCE_EVENTS) ? [e.data.code] : [])))) await datasets.reload(code);
    },
  });
  const grantService = new GrantService();
  const storeGrant = (e: EventOf<GrantEventType>, m: EntityManager) => grantService.apply(m, e.data);
  const applyGrants = idempotent(
    app.db,
    GROUP,
    eventHandlers<EntityManager>({
      'grant.issued': storeGrant,
      'grant.suspended': storeGrant,
      'grant.resumed': storeGrant,
      'grant.revoked': storeGrant,
      'grant.expired': storeGrant,
      'grant.superseded': storeGrant,
    }),
  );
  app.addConsumer({
    domains: ['grant'],
    group: GROUP,
    handleBatch: async (events) => {
      await applyGrants(events);
      for (const id of new Set(events.flatMap((e) => (isEventOf(e, ...GRANT_EVENTS) ? [e.data.id] : [])))) await grants.reload(id);
    },
  });

  // Query records go to the outbox in batches of their own, with a deadline: a query never waits long for the trail.
  const audit = new AuditEmitter(new OutboxWriter(app.db, app.relay, { maxInFlight: config.auditInFlight, timeoutMs: config.auditTimeoutMs }));

  const points = new PointBatcher(pool, RESULT_TYPES, config.pointLookupsInFlight);
  const planner = new QueryPlanner(config.queryInLimit);

  // Push subscriptions (data call): every accepted batch makes the subscribers' next deliveries; the worker sends them.
  const subscriptions = new SubscriptionService(
    pool,
    datasets,
    grants,
    planner,
    app.events,
    {
      policy: {
        requireHttps: config.webhookRequireHttps,
        allow: config.webhookAllow
          .split(',')
          .map((e) => e.trim())
          .filter(Boolean),
      },
      resolver: webhookResolver,
      maxRows: config.webhookMaxRows,
      secretGraceMs: config.webhookSecretGraceHours * 3_600_000,
    },
    app.log.child({ component: 'subscriptions' }),
  );
  // Push deliveries' manifests are signed here (pulls' at the gateway) with keys of their own, published by the gateway's JWKS.
  const manifestKeys = new KeyStore(config.manifestKeysDir, config.generateKeys, 0, 'manifest');
  manifestKeys.load();
  const manifests = new ManifestSigner(manifestKeys, config.jwtIssuer);
  app.get(
    MANIFEST_KEYS_PATH,
    {
      config: { public: true },
      schema: {
        tags: ['internal'],
        summary: 'The keys that sign push deliveries’ manifests (the gateway publishes them in the platform’s JWKS)',
        ...operationDoc('Public Ed25519 keys marked `gdx_use: manifest`. Integrators read them from the gateway’s `/.well-known/jwks.json`.'),
        response: { 200: JwksSchema },
      },
    },
    async () => manifestKeys.jwks(),
  );
  const deliveries = new DeliveryWorker(
    pool,
    subscriptions,
    app.events,
    {
      concurrency: config.webhookConcurrency,
      pollMs: config.webhookPollMs,
      sweepMs: config.webhookSweepMs,
      timeoutMs: config.webhookTimeoutMs,
      retryMs: config.webhookRetryHours * 3_600_000,
      retryBaseMs: config.webhookRetryBaseMs,
      retryCapMs: config.webhookRetryCapMs,
      signManifest: (m) => manifests.sign(m),
    },
    app.log.child({ component: 'deliveries' }),
  );
  app.addConsumer({
    domains: ['data'],
    group: 'data-query-subscriptions',
    handleBatch: async (events) => {
      const batches = events.flatMap((e) => (isEventOf(e, 'data.updated') ? [e.data] : []));
      if (!batches.length) return;
      await subscriptions.onBatches(batches);
      deliveries.nudge();
    },
  });
  // Maintenance notices (Art. 23) reach subscribers through their webhooks, in their subscriptions' order.
  app.addConsumer({
    domains: ['notice'],
    group: 'data-query-notices',
    handleBatch: async (events) => {
      let made = 0;
      for (const e of events) if (isEventOf(e, 'notice.published', 'notice.amended', 'notice.cancelled')) made += await subscriptions.forwardNotice(e.data);
      if (made) deliveries.nudge();
    },
  });
  // Customization jobs: tickets on a Redis stream read by every replica's worker slots (consumer group), the truth in PostgreSQL.
  const jobQueue = new WorkQueue(app.redis, {
    key: `${config.streamPrefix}jobs:work`,
    group: 'data-query-jobs',
    slots: config.jobWorkers,
    connect: () => app.newRedis(),
    claimIdleMs: config.jobClaimIdleMs,
    handle: (ticket): Promise<void> => jobs.work(ticket),
    logger: app.log.child({ component: 'job-queue' }),
  });
  const jobs: JobRunner = new JobRunner(
    pool,
    datasets,
    grants,
    planner,
    app.events,
    jobQueue,
    { chunkRecords: config.jobChunkRecords, resultTtlMs: config.jobResultTtlHours * 3_600_000, stallMs: config.jobStallMs, sweepMs: config.jobSweepMs, maxFailures: 3 },
    app.log.child({ component: 'jobs' }),
  );
  app.decorate('dataQuery', { datasets, grants, audit, points, subscriptions, deliveries, jobs });
  app.addHook('onReady', async () => {
    await listener.start();
    deliveries.start();
    jobs.start();
  });
  app.addHook('preClose', async () => {
    await jobs.stop();
    await deliveries.stop();
    await listener.stop();
  });

  await app.register(batchRoutes, {
    batches: new BatchService(datasets, app.events, { chunkRows: config.batchChunkRows, maxErrors: config.batchMaxErrors, maxRecordChars: config.batchMaxRecordBytes }),
  });
  // Query keys reach the trail as digests under a key derived from the manifest key (shared by every replica).
  const queries = new QueryService(pool, datasets, grants, planner, points, audit, config.queryPageLimit, new KeyDigester(manifestKeys.current().privateKey));
  await app.register(queryRoutes, {
    queries,
    batches: new QueryBatchService(queries, app.authenticate, app.log.child({ component: 'query-batches' })),
    fromGateway,
  });
  const dataCalls = new DataCallService(
    pool,
    datasets,
    grants,
    planner,
    new RowQuota(app.redis, config.streamPrefix),
    app.events,
    { chunkRows: config.pullChunkRows, readAhead: config.pullReadAhead },
    app.log.child({ component: 'data-calls' }),
  );
  await app.register(dataCallRoutes, { dataCalls, fromGateway });
  await app.register(subscriptionRoutes, { subscriptions, fromGateway });
  await app.register(jobRoutes, {
    jobs: new JobService(pool, datasets, grants, planner, app.events, jobs, {
      maxRecords: config.jobMaxRecords,
      maxBytes: config.jobMaxInputBytes,
      maxRecordChars: config.batchMaxRecordBytes,
      maxFields: config.jobMaxFields,
      unitConcurrency: config.jobUnitConcurrency,
      eventsPollMs: config.jobEventsPollMs,
    }),
    fromGateway,
  });
  return app;
}
