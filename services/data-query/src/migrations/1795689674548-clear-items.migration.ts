import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Grants name the items they let leave in clear (and the legal basis secret items need)
 * instead of one switch for every personal item. A grant that switched masking off
 * keeps its personal items in clear; its secret items now need a legal basis.
 */
export class ClearItems1795689674548 implements MigrationInterface {
  name = 'ClearItems1795689674548';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query('ALTER TABLE "grant_copy" ADD "clear_items" jsonb');
    await runner.query('ALTER TABLE "grant_copy" ADD "clear_legal_basis" text');
    await runner.query('UPDATE "grant_copy" SET "clear_items" = "items" WHERE NOT "mask_personal"');
    await runner.query('ALTER TABLE "grant_copy" DROP COLUMN "mask_personal"');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('ALTER TABLE "grant_copy" ADD "mask_personal" boolean NOT NULL DEFAULT true');
    await runner.query('UPDATE "grant_copy" SET "mask_personal" = false WHERE jsonb_array_length(COALESCE("clear_items", \'[]\'::jsonb)) > 0');
    await runner.query('ALTER TABLE "grant_copy" DROP COLUMN "clear_legal_basis"');
    await runner.query('ALTER TABLE "grant_copy" DROP COLUMN "clear_items"');
  }
}
