import { createDataSource } from '@gdx/database';
import { OutboxEvent, ProcessedEvent } from '@gdx/events';
import { migrations } from './migrations';

export const DATA_QUERY_SCHEMA = 'data_query';

/** Entities of this service; add new ones here, then generate a migration. */
export const entities = [OutboxEvent, ProcessedEvent];

export function dataQueryDataSource(url: string, poolSize = 10) {
  return createDataSource({ url, schema: DATA_QUERY_SCHEMA, entities, migrations, poolSize, applicationName: 'gdx-data-query' });
}
