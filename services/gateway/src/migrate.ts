import { migrate } from '@gdx/database';
import { gatewayDataSource } from './data-source';
import { loadGatewayConfig } from './config';

/** `node services/gateway/dist/migrate.js`: what a Kubernetes migration job runs. */
migrate(gatewayDataSource(loadGatewayConfig().databaseUrl, 1))
  .then((applied) => console.log(applied.length ? `applied: ${applied.join(', ')}` : 'gateway schema is up to date'))
  .catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
