import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Resources1795690881171 implements MigrationInterface {
  name = 'Resources1795690881171';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(
      'CREATE TABLE "resource" ("id" uuid NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "code" text NOT NULL, "classification" text array NOT NULL, "class_code" text NOT NULL, "base_database" text, "name" text NOT NULL, "summary" text NOT NULL, "provider_unit_id" uuid NOT NULL, "provider_unit_name" text NOT NULL, "provider_credit_code" text NOT NULL, "format" text NOT NULL, "items" jsonb NOT NULL, "sharing_type" text NOT NULL, "sharing" jsonb NOT NULL, "methods" text array NOT NULL, "open" jsonb NOT NULL, "update_cycle" text NOT NULL, "related_codes" text array NOT NULL, "status" text NOT NULL, "version" integer NOT NULL, "published_at" TIMESTAMP WITH TIME ZONE, "search_bigrams" text array NOT NULL DEFAULT \'{}\', CONSTRAINT "PK_e2894a5867e06ae2e8889f1173f" PRIMARY KEY ("id"))',
    );
    await runner.query('CREATE UNIQUE INDEX "resource_code" ON "resource" ("code") ');
    await runner.query('CREATE INDEX "resource_class_code" ON "resource" ("class_code") ');
    await runner.query('CREATE INDEX "resource_base_database" ON "resource" ("base_database") ');
    await runner.query('CREATE INDEX "resource_provider_unit" ON "resource" ("provider_unit_id") ');
    await runner.query('CREATE INDEX "resource_sharing_type" ON "resource" ("sharing_type") ');
    await runner.query('CREATE INDEX "resource_status" ON "resource" ("status") ');
    await runner.query('CREATE INDEX "resource_updated_sort" ON "resource" ("updated_at", "id") ');
    await runner.query('CREATE INDEX "resource_name_sort" ON "resource" ("name", "id") ');
    await runner.query(
      'CREATE TABLE "resource_version" ("id" uuid NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "resource_id" uuid NOT NULL, "version" integer NOT NULL, "change" text NOT NULL, "changed_fields" text array NOT NULL, "actor" jsonb NOT NULL, "snapshot" jsonb NOT NULL, CONSTRAINT "PK_d1c63af9faec3c0e6bc0fa54a7b" PRIMARY KEY ("id"))',
    );
    await runner.query('CREATE UNIQUE INDEX "resource_version_resource_version" ON "resource_version" ("resource_id", "version") ');
    await runner.query(
      'CREATE TABLE "element_use" ("id" uuid NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "element" text NOT NULL, "resource_id" uuid NOT NULL, "item_key" text NOT NULL, "authoritative" boolean NOT NULL, CONSTRAINT "PK_f7fd6b8956dc6726fbe1448f56d" PRIMARY KEY ("id"))',
    );
    await runner.query('CREATE UNIQUE INDEX "element_use_resource_item" ON "element_use" ("resource_id", "item_key") ');
    await runner.query('CREATE UNIQUE INDEX "element_use_one_source" ON "element_use" ("element") WHERE "authoritative"');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP INDEX "catalogue"."element_use_one_source"');
    await runner.query('DROP INDEX "catalogue"."element_use_resource_item"');
    await runner.query('DROP TABLE "element_use"');
    await runner.query('DROP INDEX "catalogue"."resource_version_resource_version"');
    await runner.query('DROP TABLE "resource_version"');
    await runner.query('DROP INDEX "catalogue"."resource_name_sort"');
    await runner.query('DROP INDEX "catalogue"."resource_updated_sort"');
    await runner.query('DROP INDEX "catalogue"."resource_status"');
    await runner.query('DROP INDEX "catalogue"."resource_sharing_type"');
    await runner.query('DROP INDEX "catalogue"."resource_provider_unit"');
    await runner.query('DROP INDEX "catalogue"."resource_base_database"');
    await runner.query('DROP INDEX "catalogue"."resource_class_code"');
    await runner.query('DROP INDEX "catalogue"."resource_code"');
    await runner.query('DROP TABLE "resource"');
  }
}
