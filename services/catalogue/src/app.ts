import { createBaseApp, reportOwnerUnit, type App } from '@gdx/service-kit';
import { createServiceTokenVerifier, JwksClient, revocationFeedPlugin, type KeyResolver } from '@gdx/auth';
import { Resource } from './entities/resource.entity';
import type { CatalogueConfig } from './config';
import { catalogueDataSource } from './data-source';
import { ResourceService } from './resources/resource.service';
import { ResourceSearchService } from './resources/resource-search.service';
import { ElementService } from './resources/element.service';
import { DcatService } from './resources/dcat.service';
import { UnitDirectoryClient } from './resources/unit-directory.client';
import { resourceRoutes } from './resources/resource.routes';

export { loadCatalogueConfig, type CatalogueConfig } from './config';
export { seedCatalogue } from './seed/catalogue.seed';

export interface CatalogueOptions {
  config: CatalogueConfig;
  logger?: boolean;
  defaultMetrics?: boolean;
  /** Token keys; defaults to the gateway's JWKS at config.jwksUrl. */
  keyFor?: KeyResolver;
}

/** The shared catalogue (共享目录): resources, versions, standard data elements, DCAT export. */
export async function buildApp({ config, logger, defaultMetrics, keyFor: givenKeyFor }: CatalogueOptions): Promise<App> {
  // Shared by bearer tokens and the gateway's service token.
  const keyFor = givenKeyFor ?? new JwksClient(config.jwksUrl).resolver();
  const app = await createBaseApp({
    name: 'catalogue',
    config,
    logger,
    defaultMetrics,
    keyFor,
    dataSource: catalogueDataSource(config.databaseUrl, config.databasePoolSize),
    openapi: {
      title: 'GDX catalogue',
      description: 'The shared catalogue (共享目录): resources, versions, standard data elements, DCAT export.',
      tags: [{ name: 'catalogue', description: 'Catalogue resources and standard data elements' }],
    },
  });
  // Tokens of disabled accounts, revoked clients and changed passwords stop working here within a second.
  await app.register(revocationFeedPlugin, { redis: app.newRedis(), prefix: app.streamPrefix });
  const elements = new ElementService(app.db);
  // The audit record of a call on a resource is its provider's too (§7): on the gateway's word only, the
  // answer names the provider when it is not the caller's unit (the gateway takes it off and records it).
  const fromGateway = createServiceTokenVerifier({ issuer: config.jwtIssuer, keyFor });
  reportOwnerUnit(app, {
    routePrefix: '/api/v1/catalogue/resources/:code',
    fromGateway,
    ownerOf: async (req) => {
      const code = (req.params as { code?: unknown } | undefined)?.code;
      if (typeof code !== 'string' || code.length > 64) return undefined;
      return (await app.db.getRepository(Resource).findOne({ where: { code }, select: { providerUnitId: true } }))?.providerUnitId;
    },
  });
  const units = new UnitDirectoryClient(config.gatewayUrl, config.unitLookupTimeoutMs);
  await app.register(resourceRoutes, {
    resources: new ResourceService(app.db, app.events, units, elements),
    search: new ResourceSearchService(app.db),
    elements,
    dcat: new DcatService(app.db, config.publicBaseUrl.replace(/\/$/, '')),
  });
  return app;
}
