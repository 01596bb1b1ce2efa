import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Issue 12: the trace of a leaked file finds its delivery by the SHA-256 on the delivery's record, without reading the trail. */
export class DeliveryHashes1795700200000 implements MigrationInterface {
  name = 'DeliveryHashes1795700200000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`CREATE INDEX audit_record_delivery_sha256 ON audit_record ((data->>'sha256')) WHERE type = 'data.delivered'`);
    await runner.query(`CREATE INDEX audit_record_delivery_resource ON audit_record (resource_code, occurred_at DESC) WHERE type = 'data.delivered'`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP INDEX audit_record_delivery_resource');
    await runner.query('DROP INDEX audit_record_delivery_sha256');
  }
}
