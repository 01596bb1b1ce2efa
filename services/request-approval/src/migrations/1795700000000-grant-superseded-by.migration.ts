import type { MigrationInterface, QueryRunner } from 'typeorm';

/** A grant superseded by a newer one for the same consumer unit, resource and mode names it. */
export class GrantSupersededBy1795700000000 implements MigrationInterface {
  name = 'GrantSupersededBy1795700000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query('ALTER TABLE "grant" ADD "superseded_by" uuid');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('ALTER TABLE "grant" DROP COLUMN "superseded_by"');
  }
}
