import { createDataSource } from '@gdx/database';
import { EVENT_ENTITIES } from '@gdx/events';
import { Unit } from './entities/unit.entity';
import { Account } from './entities/account.entity';
import { Client } from './entities/client.entity';
import { migrations } from './migrations';

export const GATEWAY_SCHEMA = 'gateway';

export function gatewayDataSource(url: string, poolSize = 10) {
  return createDataSource({ url, schema: GATEWAY_SCHEMA, entities: [Unit, Account, Client, ...EVENT_ENTITIES], migrations, poolSize, applicationName: 'gdx-gateway' });
}
