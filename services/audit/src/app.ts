import { createBaseApp, type App } from '@gdx/service-kit';
import type { KeyResolver } from '@gdx/auth';
import type { AuditConfig } from './config';
import { auditDataSource } from './data-source';

export { loadAuditConfig, type AuditConfig } from './config';

export interface AuditOptions {
  config: AuditConfig;
  logger?: boolean;
  defaultMetrics?: boolean;
  /** Token keys; defaults to the gateway's JWKS at config.jwksUrl. */
  keyFor?: KeyResolver;
}

/** The tamper-evident audit trail and its verification. */
export async function buildApp({ config, logger, defaultMetrics, keyFor }: AuditOptions): Promise<App> {
  const app = await createBaseApp({
    name: 'audit',
    config,
    logger,
    defaultMetrics,
    keyFor,
    dataSource: auditDataSource(config.databaseUrl, config.databasePoolSize),
    openapi: { title: 'GDX audit', description: 'The tamper-evident audit trail and its verification.', tags: [{ name: 'audit', description: 'Audit trail' }] },
  });
  return app;
}
