import type { MigrationInterface, QueryRunner } from 'typeorm';

export class ClientScopes1796181553478 implements MigrationInterface {
  name = 'ClientScopes1796181553478';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query('ALTER TABLE "client" ADD "scopes" text array NOT NULL DEFAULT \'{}\'');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('ALTER TABLE "client" DROP COLUMN "scopes"');
  }
}
