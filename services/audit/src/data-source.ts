import { createDataSource } from '@gdx/database';
import { EVENT_ENTITIES } from '@gdx/events';
import { migrations } from './migrations';

export const AUDIT_SCHEMA = 'audit';

/**
 * Entities of this service; add new ones here, then generate a migration. The trail
 * itself (audit_record, partitioned; audit_record_key; audit_checkpoint) is not here:
 * TypeORM cannot describe partitioned, trigger-guarded tables, so a hand-written
 * migration makes them and trail/*.repository.ts reads and writes them with SQL.
 */
export const entities = [...EVENT_ENTITIES];

export function auditDataSource(url: string, poolSize = 10) {
  return createDataSource({ url, schema: AUDIT_SCHEMA, entities, migrations, poolSize, applicationName: 'gdx-audit' });
}
