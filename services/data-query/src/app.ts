import { createBaseApp, type App } from '@gdx/service-kit';
import type { KeyResolver } from '@gdx/auth';
import type { DataQueryConfig } from './config';
import { dataQueryDataSource } from './data-source';

export { loadDataQueryConfig, type DataQueryConfig } from './config';

export interface DataQueryOptions {
  config: DataQueryConfig;
  logger?: boolean;
  defaultMetrics?: boolean;
  /** Token keys; defaults to the gateway's JWKS at config.jwksUrl. */
  keyFor?: KeyResolver;
}

/** Provider data, interface queries, data calls and customised jobs. */
export async function buildApp({ config, logger, defaultMetrics, keyFor }: DataQueryOptions): Promise<App> {
  const app = await createBaseApp({
    name: 'data-query',
    config,
    logger,
    defaultMetrics,
    keyFor,
    dataSource: dataQueryDataSource(config.databaseUrl, config.databasePoolSize),
    openapi: { title: 'GDX data-query', description: 'Provider data, interface queries, data calls and customised jobs.', tags: [{ name: 'data', description: 'Data submission and the three service modes' }] },
  });
  return app;
}
