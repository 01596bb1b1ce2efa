import type { MigrationInterface, QueryRunner } from 'typeorm';

export class AttachmentsNoDefault1795691597638 implements MigrationInterface {
  name = 'AttachmentsNoDefault1795691597638';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query('ALTER TABLE "share_request" ALTER COLUMN "attachments" DROP DEFAULT');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('ALTER TABLE "share_request" ALTER COLUMN "attachments" SET DEFAULT \'[]\'');
  }
}
