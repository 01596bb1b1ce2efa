import { Client } from 'pg';
import { DataSource, type EntityManager, type MixedList, type EntitySchema } from 'typeorm';
import { SnakeNamingStrategy } from './naming-strategy';

export interface DatabaseOptions {
  url: string;
  /** The PostgreSQL schema this service owns; no other service reads it. */
  schema: string;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  entities: MixedList<Function | string | EntitySchema>;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  migrations: MixedList<Function | string>;
  poolSize?: number;
  applicationName?: string;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

export function createDataSource(options: DatabaseOptions): DataSource {
  if (!SCHEMA_NAME.test(options.schema)) throw new Error(`bad schema name ${options.schema}`);
  return new DataSource({
    type: 'postgres',
    url: options.url,
    schema: options.schema,
    entities: options.entities,
    migrations: options.migrations,
    migrationsTableName: 'migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    migrationsRun: false,
    namingStrategy: new SnakeNamingStrategy(),
    applicationName: options.applicationName,
    // search_path lets migrations and raw queries name tables without the schema.
    extra: { max: options.poolSize ?? 10, options: `-c search_path=${options.schema},public` },
  });
}

/**
 * Creates the schema, then applies pending migrations under an advisory lock so
 * that replicas starting together (or a Kubernetes job racing a pod) migrate once.
 */
export async function migrate(dataSource: DataSource): Promise<string[]> {
  const { url, schema } = dataSource.options as { url: string; schema: string };
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`SELECT pg_advisory_lock(hashtext($1))`, [`gdx-migrate:${schema}`]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    await client.query('CREATE EXTENSION IF NOT EXISTS pg_trgm').catch(() => undefined);
    const wasInitialized = dataSource.isInitialized;
    if (!wasInitialized) await dataSource.initialize();
    try {
      const applied = await dataSource.runMigrations({ transaction: 'each' });
      return applied.map((m) => m.name);
    } finally {
      if (!wasInitialized) await dataSource.destroy();
    }
  } finally {
    await client.query(`SELECT pg_advisory_unlock(hashtext($1))`, [`gdx-migrate:${schema}`]).catch(() => undefined);
    await client.end();
  }
}

/** Runs `work` in one transaction; the manager it receives is the only one to use inside. */
export function withTransaction<T>(dataSource: DataSource, work: (manager: EntityManager) => Promise<T>): Promise<T> {
  return dataSource.transaction('READ COMMITTED', work);
}

/** The SQL TypeORM would need to bring the schema in line with the entities; empty when migrations are complete. */
export async function pendingSchemaChanges(dataSource: DataSource): Promise<string[]> {
  const log = await dataSource.driver.createSchemaBuilder().log();
  return log.upQueries.map((q) => q.query);
}

/**
 * The migrations this build knows and the database has not applied (by name, in order): a
 * replica started on a schema older than its code (MIGRATE_ON_START=false and the migrate job
 * not run yet) must not take traffic.
 */
export async function pendingMigrations(dataSource: DataSource): Promise<string[]> {
  const known = dataSource.migrations.map((m) => m.name ?? m.constructor.name);
  let applied: Set<string>;
  try {
    const rows: { name: string }[] = await dataSource.query('SELECT name FROM migrations');
    applied = new Set(rows.map((r) => r.name));
  } catch {
    applied = new Set();
  }
  return known.filter((name) => !applied.has(name));
}
