import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Datasets1795689674546 implements MigrationInterface {
  name = 'Datasets1795689674546';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(
      'CREATE TABLE "dataset" ("id" uuid NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "code" text NOT NULL, "name" text NOT NULL, "table_name" text NOT NULL, "provider_unit_id" uuid NOT NULL, "items" jsonb NOT NULL, "upsert_key" text NOT NULL, "status" text NOT NULL, "version" integer NOT NULL, "change_seq" bigint NOT NULL DEFAULT \'0\', "last_updated_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_36c1c67adb3d1dd69ae57f18913" PRIMARY KEY ("id"))',
    );
    await runner.query('CREATE UNIQUE INDEX "dataset_code" ON "dataset" ("code") ');
    await runner.query('CREATE UNIQUE INDEX "dataset_table_name" ON "dataset" ("table_name") ');
    await runner.query(
      'CREATE TABLE "grant_copy" ("id" uuid NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "consumer_unit_id" uuid NOT NULL, "provider_unit_id" uuid NOT NULL, "resource_code" text NOT NULL, "items" jsonb NOT NULL, "row_filter" jsonb, "modes" jsonb NOT NULL, "rate_limit_per_second" integer, "daily_quota" integer, "valid_from" TIMESTAMP WITH TIME ZONE, "valid_to" TIMESTAMP WITH TIME ZONE, "status" text NOT NULL, "version" integer NOT NULL, "mask_personal" boolean NOT NULL DEFAULT true, CONSTRAINT "PK_4eff7f15eb0b1bf7be7b35c56bf" PRIMARY KEY ("id"))',
    );
    await runner.query('CREATE INDEX "grant_copy_consumer_resource" ON "grant_copy" ("consumer_unit_id", "resource_code") ');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP INDEX "data_query"."grant_copy_consumer_resource"');
    await runner.query('DROP TABLE "grant_copy"');
    await runner.query('DROP INDEX "data_query"."dataset_table_name"');
    await runner.query('DROP INDEX "data_query"."dataset_code"');
    await runner.query('DROP TABLE "dataset"');
  }
}
