import { migrate } from '@gdx/database';
import { catalogueDataSource } from './data-source';
import { loadCatalogueConfig } from './config';

/** `node services/catalogue/dist/migrate.js`: what a Kubernetes migration job runs. */
migrate(catalogueDataSource(loadCatalogueConfig().databaseUrl, 1))
  .then((applied) => console.log(applied.length ? `applied: ${applied.join(', ')}` : 'catalogue schema is up to date'))
  .catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
