import { migrate } from '@gdx/database';
import { dataQueryDataSource } from './data-source';
import { loadDataQueryConfig } from './config';

/** `node services/data-query/dist/migrate.js`: what a Kubernetes migration job runs. */
migrate(dataQueryDataSource(loadDataQueryConfig().databaseUrl, 1))
  .then((applied) => console.log(applied.length ? `applied: ${applied.join(', ')}` : 'data-query schema is up to date'))
  .catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
