import type { DataSource } from 'typeorm';
import { gatewayDataSource } from '@gdx/gateway';
import { catalogueDataSource } from '@gdx/catalogue';
import { requestApprovalDataSource } from '@gdx/request-approval';
import { dataQueryDataSource } from '@gdx/data-query';
import { auditDataSource } from '@gdx/audit';

/** Every service's database, in the order migrations and seeds run. */
export const SERVICE_DATABASES: { name: string; dir: string; dataSource: (url: string) => DataSource }[] = [
  { name: 'gateway', dir: 'services/gateway', dataSource: (url) => gatewayDataSource(url, 2) },
  { name: 'catalogue', dir: 'services/catalogue', dataSource: (url) => catalogueDataSource(url, 2) },
  { name: 'request-approval', dir: 'services/request-approval', dataSource: (url) => requestApprovalDataSource(url, 2) },
  { name: 'data-query', dir: 'services/data-query', dataSource: (url) => dataQueryDataSource(url, 2) },
  { name: 'audit', dir: 'services/audit', dataSource: (url) => auditDataSource(url, 2) },
];
