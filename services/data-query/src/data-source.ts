import { createDataSource } from '@gdx/database';
import { EVENT_ENTITIES } from '@gdx/events';
import { Dataset } from './entities/dataset.entity';
import { GrantCopy } from './entities/grant-copy.entity';
import { Job } from './entities/job.entity';
import { WebhookDelivery } from './entities/webhook-delivery.entity';
import { WebhookSubscription } from './entities/webhook-subscription.entity';
import { migrations } from './migrations';

export const DATA_QUERY_SCHEMA = 'data_query';
/** Provider rows live apart from the service's own tables: one generated table per resource. */
export const ROWS_SCHEMA = 'data_query_rows';

/** Entities of this service; add new ones here, then generate a migration. */
export const entities = [...EVENT_ENTITIES, Dataset, GrantCopy, WebhookSubscription, WebhookDelivery, Job];

export function dataQueryDataSource(url: string, poolSize = 10) {
  return createDataSource({ url, schema: DATA_QUERY_SCHEMA, entities, migrations, poolSize, applicationName: 'gdx-data-query' });
}
