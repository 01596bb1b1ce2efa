import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Initial1795688921742 implements MigrationInterface {
  name = 'Initial1795688921742';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(
      'CREATE TABLE "outbox" ("id" uuid NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "seq" BIGSERIAL NOT NULL, "type" text NOT NULL, "envelope" jsonb NOT NULL, "published_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_340ab539f309f03bdaa14aa7649" PRIMARY KEY ("id"))',
    );
    await runner.query('CREATE INDEX "outbox_unpublished" ON "outbox" ("seq") WHERE published_at IS NULL');
    await runner.query(
      'CREATE TABLE "processed_event" ("id" uuid NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "consumer_group" text NOT NULL, "event_id" uuid NOT NULL, CONSTRAINT "PK_1d63356c8b4bb356575f85b629d" PRIMARY KEY ("id"))',
    );
    await runner.query('CREATE UNIQUE INDEX "processed_event_group_event" ON "processed_event" ("consumer_group", "event_id") ');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP INDEX "approval"."processed_event_group_event"');
    await runner.query('DROP TABLE "processed_event"');
    await runner.query('DROP INDEX "approval"."outbox_unpublished"');
    await runner.query('DROP TABLE "outbox"');
  }
}
