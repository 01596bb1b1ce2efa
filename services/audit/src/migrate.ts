import { migrate } from '@gdx/database';
import { auditDataSource } from './data-source';
import { loadAuditConfig } from './config';

/** `node services/audit/dist/migrate.js`: what a Kubernetes migration job runs. */
migrate(auditDataSource(loadAuditConfig().databaseUrl, 1))
  .then((applied) => console.log(applied.length ? `applied: ${applied.join(', ')}` : 'audit schema is up to date'))
  .catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
