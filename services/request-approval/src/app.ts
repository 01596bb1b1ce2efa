import { createBaseApp, type App } from '@gdx/service-kit';
import type { KeyResolver } from '@gdx/auth';
import type { RequestApprovalConfig } from './config';
import { requestApprovalDataSource } from './data-source';

export { loadRequestApprovalConfig, type RequestApprovalConfig } from './config';

export interface RequestApprovalOptions {
  config: RequestApprovalConfig;
  logger?: boolean;
  defaultMetrics?: boolean;
  /** Token keys; defaults to the gateway's JWKS at config.jwksUrl. */
  keyFor?: KeyResolver;
}

/** Requests, filing and commitment, reviews and grants (申请/授权). */
export async function buildApp({ config, logger, defaultMetrics, keyFor }: RequestApprovalOptions): Promise<App> {
  const app = await createBaseApp({
    name: 'request-approval',
    config,
    logger,
    defaultMetrics,
    keyFor,
    dataSource: requestApprovalDataSource(config.databaseUrl, config.databasePoolSize),
    openapi: { title: 'GDX request-approval', description: 'Requests, filing and commitment, reviews and grants (申请/授权).', tags: [{ name: 'requests', description: 'Requests, reviews and grants' }] },
  });
  return app;
}
