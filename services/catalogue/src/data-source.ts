import { createDataSource } from '@gdx/database';
import { EVENT_ENTITIES } from '@gdx/events';
import { migrations } from './migrations';
import { Resource } from './entities/resource.entity';
import { ResourceVersion } from './entities/resource-version.entity';
import { ElementUse } from './entities/element-use.entity';

export const CATALOGUE_SCHEMA = 'catalogue';

/** Entities of this service; add new ones here, then generate a migration. */
export const entities = [...EVENT_ENTITIES, Resource, ResourceVersion, ElementUse];

export function catalogueDataSource(url: string, poolSize = 10) {
  return createDataSource({ url, schema: CATALOGUE_SCHEMA, entities, migrations, poolSize, applicationName: 'gdx-catalogue' });
}
