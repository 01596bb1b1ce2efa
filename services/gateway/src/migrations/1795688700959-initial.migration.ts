import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Initial1795688700959 implements MigrationInterface {
  name = 'Initial1795688700959';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(
      'CREATE TABLE "outbox" ("id" uuid NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "seq" BIGSERIAL NOT NULL, "type" text NOT NULL, "envelope" jsonb NOT NULL, "published_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_340ab539f309f03bdaa14aa7649" PRIMARY KEY ("id"))',
    );
    await runner.query('CREATE INDEX "outbox_unpublished" ON "outbox" ("seq") WHERE published_at IS NULL');
    await runner.query(
      'CREATE TABLE "processed_event" ("id" uuid NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "consumer_group" text NOT NULL, "event_id" uuid NOT NULL, CONSTRAINT "PK_1d63356c8b4bb356575f85b629d" PRIMARY KEY ("id"))',
    );
    await runner.query('CREATE UNIQUE INDEX "processed_event_group_event" ON "processed_event" ("consumer_group", "event_id") ');
    await runner.query(
      'CREATE TABLE "unit" ("id" uuid NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "key" text NOT NULL, "name" text NOT NULL, "credit_code" character(18) NOT NULL, "region_code" character(6) NOT NULL, "kind" text NOT NULL, "contact_name" text, "contact_phone" text, "status" text NOT NULL DEFAULT \'active\', CONSTRAINT "PK_4252c4be609041e559f0c80f58a" PRIMARY KEY ("id"))',
    );
    await runner.query('CREATE UNIQUE INDEX "unit_key" ON "unit" ("key") ');
    await runner.query('CREATE UNIQUE INDEX "unit_credit_code" ON "unit" ("credit_code") ');
    await runner.query(
      'CREATE TABLE "account" ("id" uuid NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "unit_id" uuid NOT NULL, "username" text NOT NULL, "display_name" text NOT NULL, "roles" text array NOT NULL, "password_hash" text NOT NULL, "failed_logins" integer NOT NULL DEFAULT \'0\', "locked_until" TIMESTAMP WITH TIME ZONE, "status" text NOT NULL DEFAULT \'active\', CONSTRAINT "PK_54115ee388cdb6d86bb4bf5b2ea" PRIMARY KEY ("id"))',
    );
    await runner.query('CREATE INDEX "account_unit" ON "account" ("unit_id") ');
    await runner.query('CREATE UNIQUE INDEX "account_username" ON "account" ("username") ');
    await runner.query(
      'CREATE TABLE "client" ("id" uuid NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "unit_id" uuid NOT NULL, "client_id" text NOT NULL, "name" text NOT NULL, "secret_hash" text NOT NULL, "status" text NOT NULL DEFAULT \'active\', CONSTRAINT "PK_96da49381769303a6515a8785c7" PRIMARY KEY ("id"))',
    );
    await runner.query('CREATE INDEX "client_unit" ON "client" ("unit_id") ');
    await runner.query('CREATE UNIQUE INDEX "client_client_id" ON "client" ("client_id") ');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP INDEX "gateway"."client_client_id"');
    await runner.query('DROP INDEX "gateway"."client_unit"');
    await runner.query('DROP TABLE "client"');
    await runner.query('DROP INDEX "gateway"."account_username"');
    await runner.query('DROP INDEX "gateway"."account_unit"');
    await runner.query('DROP TABLE "account"');
    await runner.query('DROP INDEX "gateway"."unit_credit_code"');
    await runner.query('DROP INDEX "gateway"."unit_key"');
    await runner.query('DROP TABLE "unit"');
    await runner.query('DROP INDEX "gateway"."processed_event_group_event"');
    await runner.query('DROP TABLE "processed_event"');
    await runner.query('DROP INDEX "gateway"."outbox_unpublished"');
    await runner.query('DROP TABLE "outbox"');
  }
}
