import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The schema that holds one generated table per published resource. Its tables
 * are created and evolved at run time from resource events (DatasetService), not
 * by migrations: their columns are the catalogue's items.
 */
export class RowsSchema1795689674547 implements MigrationInterface {
  name = 'RowsSchema1795689674547';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query('CREATE SCHEMA IF NOT EXISTS "data_query_rows"');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP SCHEMA IF EXISTS "data_query_rows" CASCADE');
  }
}
