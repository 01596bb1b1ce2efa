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
      calendar: WorkingCalendar;
      /** Flags overdue provider reviews and expires grants now; the timer calls it every sweepIntervalMs. */
      sweep: () => Promise<SweepResult>;
    };
  }
}

/** Requests, filing and commitment, reviews and grants (申请/授权). */
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
      description: 'Requests, filing and commitment, reviews and grants (申请/授权).',
      tags: [
        { name: 'requests', description: 'Requests, the record form and commitment, provider review and office confirmation' },
        { name: 'grants', description: 'Grants: what lets data flow, and their suspension, revocation and expiry' },
      ],
    },
  });
  // Tokens of disabled accounts, revoked clients and changed passwords stop working here within a second.
  await app.register(revocationFeedPlugin, { redis: app.newRedis(), prefix: app.streamPrefix });

  const calendar = new WorkingCalendar({ holidays: parseIsoDates(config.extraHolidays), workingDays: parseIsoDates(config.extraWorkingDays), utcOffsetMinutes: config.calendarUtcOffsetMinutes });
  const grants = new GrantService(app.db, app.events, app.redis, app.streamPrefix, clock);
  const requests = new RequestService(
    app.db,
    app.events,
    catalogue ?? new HttpCatalogueClient(config.catalogueUrl, config.catalogueTimeoutMs),
    units ?? new HttpUnitDirectory(config.gatewayUrl, config.catalogueTimeoutMs),
    grants,
    clock,
    calendar,
    { providerDeadlineWorkingDays: config.providerDeadlineWorkingDays, defaultRateLimitPerSecond: config.defaultRateLimitPerSecond, defaultDailyQuota: config.defaultDailyQuota },
  );
  const sweeper = new Sweeper(requests, grants, (err) => app.log.error({ err }, 'sweep failed; retrying at the next tick'));
  app.decorate('approval', { requests, grants, calendar, sweep: () => sweeper.run() });

  // Shared by both route sets (registered plugins are encapsulated, their schemas would not be).
  app.addSchema(RowFilterSchema);
  app.addSchema(GrantViewSchema);
  app.addSchema(RequestSchema);
  const fromGateway = createServiceTokenVerifier({ issuer: config.jwtIssuer, keyFor });
  await app.register(requestRoutes, { requests, fromGateway });
  await app.register(grantRoutes, { grants, fromGateway });
  addResourceDeprecatedConsumer(app, grants);

  app.addHook('onReady', async () => sweeper.start(config.sweepIntervalMs));
  app.addHook('preClose', async () => sweeper.stop());
  return app;
}
