import { createBaseApp, type App } from '@gdx/service-kit';
import { revocationFeedPlugin, type KeyResolver } from '@gdx/auth';
import type { AuditConfig } from './config';
import { auditDataSource } from './data-source';
import { AuditKeyStore } from './trail/audit-key.store';
import { AuditRecordRepository } from './trail/audit-record.repository';
import { CheckpointRepository } from './trail/checkpoint.repository';
import { ChainService } from './trail/chain.service';
import { AuditRecordService } from './trail/audit-record.service';
import { CheckpointService } from './trail/checkpoint.service';
import { VerificationService } from './trail/verification.service';
import { ExportService } from './trail/export.service';
import { PartitionService } from './trail/partition.service';
import { AUDITED_DOMAINS } from './trail/audit-record.model';
import { AUDIT_GROUP, registerAuditConsumers, registerDeadLetterAlarm } from './ingest/audit.consumer';
import { ConsumerLagService } from './ingest/consumer-lag.service';
import { auditRoutes } from './routes/audit.routes';
import { traceRoutes } from './routes/trace.routes';
import { DeliveryTraceService } from './trail/delivery-trace.service';
import { RollupService } from './assessment/rollup.service';
import { AssessmentService } from './assessment/assessment.service';
import { assessmentRoutes } from './assessment/assessment.routes';
import { InspectionService, type Rule } from './inspection/inspection.service';
import { inspectionRoutes } from './inspection/inspection.routes';
import { appendToOutbox, idempotent } from '@gdx/events';
import type { DeclaredEvent } from '@gdx/contracts';
import { Counter } from 'prom-client';

export { loadAuditConfig, type AuditConfig } from './config';

const INSPECTED = /^(query\.(executed|denied)|data\.delivered|job\.started|grant\.[a-z_]+)$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Inspection reads loosely, as the trail does: an event of another shape is skipped by the rules, never dead-lettered here. */
function registerInspection(app: App, inspection: InspectionService, alertsRaised: Counter): void {
  let raised: Rule[] = [];
  const inspect = idempotent(app.db, 'audit-inspection', async (events, m) => {
    const out: DeclaredEvent[] = [];
    raised = await inspection.inspect(m, events, out);
    await appendToOutbox(m, out);
  });
  app.addConsumer({
    domains: ['query', 'data', 'job', 'grant'],
    group: 'audit-inspection',
    // Large batches: the rules' counters are written once per batch, whatever its size.
    batchSize: 1000,
    validate: false,
    handleBatch: async (events) => {
      const relevant = events.filter((e) => INSPECTED.test(e.type) && UUID.test(String(e.id)) && !Number.isNaN(Date.parse(e.occurredAt)));
      if (!relevant.length) return;
      raised = [];
      await inspect(relevant);
      // Counted once committed (a batch that failed is read again).
      for (const rule of raised) alertsRaised.inc({ rule });
      if (raised.length) app.relay.kick();
    },
  });
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The assessment's parts, for the rebuild command and tests. */
    assessment: { rollups: RollupService; assessments: AssessmentService; rebuild: () => Promise<number> };
    /** Security inspection, for its upkeep and tests. */
    inspection: InspectionService;
  }
}

export interface AuditOptions {
  config: AuditConfig;
  logger?: boolean;
  defaultMetrics?: boolean;
  /** Token keys; defaults to the gateway's JWKS at config.jwksUrl. */
  keyFor?: KeyResolver;
}

/** The tamper-evident audit trail and its verification. */
export async function buildApp({ config, logger, defaultMetrics, keyFor }: AuditOptions): Promise<App> {
  // Before anything listens: a service that cannot sign checkpoints must not start.
  const keys = new AuditKeyStore(config.auditKeysDir, config.generateAuditKey).load();
  const app = await createBaseApp({
    name: 'audit',
    config,
    logger,
    defaultMetrics,
    keyFor,
    dataSource: auditDataSource(config.databaseUrl, config.databasePoolSize),
    openapi: {
      title: 'GDX audit',
      description: 'The tamper-evident audit trail and its verification; assessment (考核) and security inspection (安全督查) kept beside it.',
      tags: [
        { name: 'audit', description: 'Audit trail' },
        { name: 'assessments', description: 'Assessment of every unit by period (Art. 28): figures, weighted score, evidence, exports' },
        { name: 'inspections', description: 'Security inspection (Art. 31): rules over the service modes’ events, alerts and their acknowledgement' },
      ],
    },
  });
  // Tokens of disabled accounts, revoked clients and changed passwords stop working here within a second.
  await app.register(revocationFeedPlugin, { redis: app.newRedis(), prefix: app.streamPrefix });

  const options = { chains: config.auditChains, writerRole: config.auditWriterRole };
  const recordRepo = new AuditRecordRepository(app.db);
  const checkpointRepo = new CheckpointRepository(app.db);
  // Assessment's read models are kept in the trail's own transactions (each event counts once).
  const rollups = new RollupService(config.assessmentUtcOffsetMinutes);
  const records = new AuditRecordService(app.db, recordRepo, new ChainService(), options, config.assessmentRollups ? (m, written) => rollups.apply(m, written) : undefined);
  const assessments = new AssessmentService(app.db, { utcOffsetMinutes: config.assessmentUtcOffsetMinutes, weights: config.weights, gatewayUrl: config.gatewayUrl });
  app.decorate('assessment', { rollups, assessments, rebuild: () => rollups.rebuild(app.db) });
  const checkpoints = new CheckpointService(app.db, recordRepo, checkpointRepo, keys, options);
  const partitions = new PartitionService(app.db, config.auditWriterRole);
  const lag = new ConsumerLagService(app.redis, app.streamPrefix, AUDITED_DOMAINS, AUDIT_GROUP);

  registerAuditConsumers(app, records, config);
  registerDeadLetterAlarm(app);
  lag.register(app.metrics);
  app.readinessChecks.set('consumer-lag', async () => {
    const { totalLag } = await lag.snapshot();
    if (totalLag > config.maxConsumerLag) throw new Error(`audit consumer lag ${totalLag} exceeds ${config.maxConsumerLag}`);
  });

  await app.register(auditRoutes, { records, checkpoints, verification: new VerificationService(recordRepo, checkpointRepo, keys), exports: new ExportService(recordRepo, checkpointRepo, keys) });
  await app.register(traceRoutes, { trace: new DeliveryTraceService(app.db, config.gatewayUrl) });
  await app.register(assessmentRoutes, { assessments });

  // Security inspection: its own consumer group on the service modes' streams (and grants), rules evaluated per batch.
  const [open, close] = config.inspectWorkingHours.split('-').map((t) => Number(t.slice(0, 2)) * 60 + Number(t.slice(3, 5)));
  const inspection = new InspectionService(app.db, app.events, {
    volumeFactor: config.inspectVolumeFactor,
    volumeMinCalls: config.inspectVolumeMinCalls,
    volumeWeeks: config.inspectVolumeWeeks,
    enumerationWindowMinutes: config.inspectEnumerationWindowMinutes,
    enumerationMinKeys: config.inspectEnumerationMinKeys,
    enumerationNotFoundShare: config.inspectEnumerationNotFoundShare,
    sequentialRun: config.inspectSequentialRun,
    workingHours: [open, close],
    bulkRows: config.inspectBulkRows,
    denialWindowSeconds: config.inspectDenialWindowSeconds,
    denialBurst: config.inspectDenialBurst,
    utcOffsetMinutes: config.assessmentUtcOffsetMinutes,
  });
  const alertsRaised = new Counter({ name: 'audit_inspection_alerts_total', help: 'Security inspection alerts raised, by rule (page on it)', labelNames: ['rule'], registers: [app.metrics] });
  if (config.inspection) registerInspection(app, inspection, alertsRaised);
  app.decorate('inspection', inspection);
  await app.register(inspectionRoutes, { inspection });

  // Background upkeep: next month's partition and periodic checkpoints. Failures are
  // logged and retried at the next tick; they never stop ingestion.
  const timers: NodeJS.Timeout[] = [];
  let upkeep: Promise<unknown> = Promise.resolve();
  const every = (ms: number, name: string, work: () => Promise<unknown>) => {
    const run = () => {
      upkeep = upkeep.then(work).catch((err: unknown) => app.log.warn({ err }, `${name} failed; will retry`));
    };
    timers.push(setInterval(run, ms).unref());
    return run;
  };
  app.addHook('onReady', async () => {
    every(config.partitionCheckMs, 'partition upkeep', async () => {
      const names = await partitions.ensureAhead();
      if (names.includes(null)) app.log.warn({ names }, 'a month’s partition could not be made: the default partition holds records of it');
    })();
    if (config.checkpointIntervalMs > 0) every(config.checkpointIntervalMs, 'periodic checkpoint', () => checkpoints.create(true));
    // Hourly, not at start: inspection's counters and marks of windows no rule reads again.
    if (config.inspection) every(3_600_000, 'inspection purge', () => inspection.purge());
  });
  app.addHook('preClose', async () => {
    for (const t of timers) clearInterval(t);
    await upkeep;
  });
  return app;
}
