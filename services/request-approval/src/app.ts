import { createBaseApp, type App } from '@gdx/service-kit';
import { createServiceTokenVerifier, JwksClient, revocationFeedPlugin, type KeyResolver } from '@gdx/auth';
import type { RequestApprovalConfig } from './config';
import { parseIsoDates } from './config';
import { requestApprovalDataSource } from './data-source';
import { systemClock, type Clock } from './shared/clock';
import { WorkingCalendar } from './shared/working-calendar';
import { HttpCatalogueClient, type CatalogueClient } from './shared/catalogue.client';
import { HttpUnitDirectory, type UnitDirectory } from './shared/unit-directory.client';
import { Sweeper, type SweepResult } from './shared/sweeper';
import { GrantViewSchema, RowFilterSchema } from '@gdx/contracts';
import { GrantService } from './grants/grant.service';
import { grantRoutes } from './grants/grant.routes';
import { addResourceDeprecatedConsumer } from './grants/resource-deprecated.consumer';
import { RequestSchema } from './requests/request.schemas';
import { RequestService } from './requests/request.service';
import { requestRoutes } from './requests/request.routes';
import { CaseService } from './cases/case.service';
import { caseRoutes } from './cases/case.routes';
import { CaseSchema } from './cases/case.schemas';
import { NoticeService } from './notices/notice.service';
import { noticeRoutes } from './notices/notice.routes';
import { NoticeViewSchema } from '@gdx/contracts';

export { loadRequestApprovalConfig, type RequestApprovalConfig } from './config';
export type { Clock } from './shared/clock';
export type { CatalogueClient, CatalogueResource } from './shared/catalogue.client';
export { WorkingCalendar } from './shared/working-calendar';

export interface RequestApprovalOptions {
  config: RequestApprovalConfig;
  logger?: boolean;
  defaultMetrics?: boolean;
  /** Token keys; defaults to the gateway's JWKS at config.jwksUrl. */
  keyFor?: KeyResolver;
  /** Where the time comes from; tests pass a controllable one. */
  clock?: Clock;
  /** Replaces the HTTP catalogue client (tests of this service alone). */
  catalogue?: CatalogueClient;
  /** Replaces the HTTP unit directory (tests of this service alone). */
  units?: UnitDirectory;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The request-approval service's own parts, for server-side jobs and tests. */
    approval: {
      requests: RequestService;
      grants: GrantService;
      cases: CaseService;
      notices: NoticeService;
      calendar: WorkingCalendar;
      /** Flags overdue provider reviews and cases, circulates overdue orders and expires grants now; the timer calls it every sweepIntervalMs. */
      sweep: () => Promise<SweepResult>;
    };
  }
}

/** Requests, filing and commitment, reviews and grants (申请/授权); objections, complaints, rectification orders and maintenance notices. */
export async function buildApp({ config, logger, defaultMetrics, keyFor: givenKeyFor, clock = systemClock, catalogue, units }: RequestApprovalOptions): Promise<App> {
  // Shared by bearer tokens and the gateway's service token.
  const keyFor = givenKeyFor ?? new JwksClient(config.jwksUrl).resolver();
  const app = await createBaseApp({
    name: 'request-approval',
    config,
    logger,
    defaultMetrics,
    keyFor,
    dataSource: requestApprovalDataSource(config.databaseUrl, config.databasePoolSize),
    openapi: {
      title: 'GDX request-approval',
      description: 'Requests, filing and commitment, reviews and grants (申请/授权); the cases of supervision (异议, 投诉, 限期整改) and maintenance notices.',
      tags: [
        { name: 'requests', description: 'Requests, the record form and commitment, provider review and office confirmation' },
        { name: 'grants', description: 'Grants: what lets data flow, and their suspension, revocation and expiry' },
        { name: 'objections', description: 'Objections (异议, Art. 18) to data received: the provider answers in writing within a deadline; the office decides escalations' },
        { name: 'complaints', description: 'Complaints (投诉, Art. 29) to the office about another unit' },
        { name: 'rectifications', description: 'Rectification orders (限期整改, Art. 30) and the circulars (通报批评) they become when overdue or failed twice' },
        { name: 'notices', description: 'Maintenance notices (Art. 23): announced windows during which the gateway answers 503' },
      ],
    },
  });
  // Tokens of disabled accounts, revoked clients and changed passwords stop working here within a second.
  await app.register(revocationFeedPlugin, { redis: app.newRedis(), prefix: app.streamPrefix });

  const calendar = new WorkingCalendar({ holidays: parseIsoDates(config.extraHolidays), workingDays: parseIsoDates(config.extraWorkingDays), utcOffsetMinutes: config.calendarUtcOffsetMinutes });
  const catalogueClient = catalogue ?? new HttpCatalogueClient(config.catalogueUrl, config.catalogueTimeoutMs);
  const unitDirectory = units ?? new HttpUnitDirectory(config.gatewayUrl, config.catalogueTimeoutMs);
  const grants = new GrantService(app.db, app.events, app.redis, app.streamPrefix, clock);
  const requests = new RequestService(app.db, app.events, catalogueClient, unitDirectory, grants, clock, calendar, {
    providerDeadlineWorkingDays: config.providerDeadlineWorkingDays,
    defaultRateLimitPerSecond: config.defaultRateLimitPerSecond,
    defaultDailyQuota: config.defaultDailyQuota,
  });
  const cases = new CaseService(app.db, app.events, unitDirectory, clock, calendar, {
    objectionAnswerWorkingDays: config.objectionAnswerWorkingDays,
    complaintAnswerWorkingDays: config.complaintAnswerWorkingDays,
  });
  const notices = new NoticeService(app.db, app.events, app.redis, app.streamPrefix, catalogueClient, clock, calendar, { noticeWorkingDays: config.noticeWorkingDays });
  const sweeper = new Sweeper(requests, grants, cases, (err) => app.log.error({ err }, 'sweep failed; retrying at the next tick'));
  app.decorate('approval', { requests, grants, cases, notices, calendar, sweep: () => sweeper.run() });

  // Shared by both route sets (registered plugins are encapsulated, their schemas would not be).
  app.addSchema(RowFilterSchema);
  app.addSchema(GrantViewSchema);
  app.addSchema(RequestSchema);
  app.addSchema(CaseSchema);
  app.addSchema(NoticeViewSchema);
  const fromGateway = createServiceTokenVerifier({ issuer: config.jwtIssuer, keyFor });
  await app.register(requestRoutes, { requests, fromGateway });
  await app.register(grantRoutes, { grants, fromGateway });
  await app.register(caseRoutes, { cases, fromGateway });
  await app.register(noticeRoutes, { notices });
  addResourceDeprecatedConsumer(app, grants);

  app.addHook('onReady', async () => sweeper.start(config.sweepIntervalMs));
  app.addHook('preClose', async () => sweeper.stop());
  return app;
}
