import type { DataSource } from 'typeorm';
import { gatewayDataSource } from '@gdx/gateway/dist/data-source';

/** Every service's database, in the order migrations and seeds run. */
export const SERVICE_DATABASES: { name: string; dir: string; dataSource: (url: string) => DataSource }[] = [
  { name: 'gateway', dir: 'services/gateway', dataSource: (url) => gatewayDataSource(url, 2) },
];
