import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Requests may ask for items in clear; grants list their clear items and the office's legal basis for secret ones (§6). */
export class ClearItems1795710000000 implements MigrationInterface {
  name = 'ClearItems1795710000000';

  async up(runner: QueryRunner): Promise<void> {
    // Existing rows asked for and were granted nothing in clear; new rows always say.
    await runner.query(`ALTER TABLE "share_request" ADD "clear_items" jsonb NOT NULL DEFAULT '[]'`);
    await runner.query('ALTER TABLE "share_request" ALTER COLUMN "clear_items" DROP DEFAULT');
    await runner.query(`ALTER TABLE "grant" ADD "clear_items" jsonb NOT NULL DEFAULT '[]'`);
    await runner.query('ALTER TABLE "grant" ALTER COLUMN "clear_items" DROP DEFAULT');
    await runner.query('ALTER TABLE "grant" ADD "clear_legal_basis" text');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('ALTER TABLE "grant" DROP COLUMN "clear_legal_basis"');
    await runner.query('ALTER TABLE "grant" DROP COLUMN "clear_items"');
    await runner.query('ALTER TABLE "share_request" DROP COLUMN "clear_items"');
  }
}
