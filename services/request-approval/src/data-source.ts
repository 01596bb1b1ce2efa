import { createDataSource } from '@gdx/database';
import { OutboxEvent, ProcessedEvent } from '@gdx/events';
import { migrations } from './migrations';

export const APPROVAL_SCHEMA = 'approval';

/** Entities of this service; add new ones here, then generate a migration. */
export const entities = [OutboxEvent, ProcessedEvent];

export function requestApprovalDataSource(url: string, poolSize = 10) {
  return createDataSource({ url, schema: APPROVAL_SCHEMA, entities, migrations, poolSize, applicationName: 'gdx-request-approval' });
}
