import { migrate } from '@gdx/database';
import { requestApprovalDataSource } from './data-source';
import { loadRequestApprovalConfig } from './config';

/** `node services/request-approval/dist/migrate.js`: what a Kubernetes migration job runs. */
migrate(requestApprovalDataSource(loadRequestApprovalConfig().databaseUrl, 1))
  .then((applied) => console.log(applied.length ? `applied: ${applied.join(', ')}` : 'request-approval schema is up to date'))
  .catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
