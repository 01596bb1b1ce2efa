import { createBaseApp, type App } from '@gdx/service-kit';
import type { KeyResolver } from '@gdx/auth';
import type { CatalogueConfig } from './config';
import { catalogueDataSource } from './data-source';

export { loadCatalogueConfig, type CatalogueConfig } from './config';

export interface CatalogueOptions {
  config: CatalogueConfig;
  logger?: boolean;
  defaultMetrics?: boolean;
  /** Token keys; defaults to the gateway's JWKS at config.jwksUrl. */
  keyFor?: KeyResolver;
}

/** The shared catalogue (共享目录): resources, versions, standard data elements, DCAT export. */
export async function buildApp({ config, logger, defaultMetrics, keyFor }: CatalogueOptions): Promise<App> {
  const app = await createBaseApp({
    name: 'catalogue',
    config,
    logger,
    defaultMetrics,
    keyFor,
    dataSource: catalogueDataSource(config.databaseUrl, config.databasePoolSize),
    openapi: { title: 'GDX catalogue', description: 'The shared catalogue (共享目录): resources, versions, standard data elements, DCAT export.', tags: [{ name: 'catalogue', description: 'Catalogue resources and standard data elements' }] },
  });
  return app;
}
