import { createDataSource } from '@gdx/database';
import { OutboxEvent, ProcessedEvent } from '@gdx/events';
import { migrations } from './migrations';

export const AUDIT_SCHEMA = 'audit';

/** Entities of this service; add new ones here, then generate a migration. */
export const entities = [OutboxEvent, ProcessedEvent];

export function auditDataSource(url: string, poolSize = 10) {
  return createDataSource({ url, schema: AUDIT_SCHEMA, entities, migrations, poolSize, applicationName: 'gdx-audit' });
}
