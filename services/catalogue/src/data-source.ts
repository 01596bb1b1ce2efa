import { createDataSource } from '@gdx/database';
import { OutboxEvent, ProcessedEvent } from '@gdx/events';
import { migrations } from './migrations';

export const CATALOGUE_SCHEMA = 'catalogue';

/** Entities of this service; add new ones here, then generate a migration. */
export const entities = [OutboxEvent, ProcessedEvent];

export function catalogueDataSource(url: string, poolSize = 10) {
  return createDataSource({ url, schema: CATALOGUE_SCHEMA, entities, migrations, poolSize, applicationName: 'gdx-catalogue' });
}
