import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 11: a record that held what PostgreSQL cannot store (NUL, a lone surrogate)
 * is kept escaped (trail/escape.ts); original_sha256 is the SHA-256 of its content
 * before escaping, null on every other record. Added to the partitioned table, so
 * every partition, present and future, has it.
 */
export class EscapedRecords1795700000000 implements MigrationInterface {
  name = 'EscapedRecords1795700000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query('ALTER TABLE audit_record ADD COLUMN original_sha256 text');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('ALTER TABLE audit_record DROP COLUMN original_sha256');
  }
}
