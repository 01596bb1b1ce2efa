import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Push subscriptions of the data-call mode and their numbered deliveries (the delivery log). */
export class WebhookSubscriptions1795700200000 implements MigrationInterface {
  name = 'WebhookSubscriptions1795700200000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(
      `CREATE TABLE "webhook_subscription" ("id" uuid NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "unit_id" uuid NOT NULL, "resource_code" text NOT NULL, "items" jsonb, "url" text NOT NULL, "secret" text NOT NULL, "previous_secret" text, "previous_secret_until" TIMESTAMP WITH TIME ZONE, "status" text NOT NULL, "pause_kind" text, "paused_reason" text, "cursor_seq" bigint NOT NULL, "last_sequence" integer NOT NULL DEFAULT '0', "created_by" text NOT NULL, CONSTRAINT "PK_b52cb4811c5ada4f42896c37ba8" PRIMARY KEY ("id"))`,
    );
    await runner.query('CREATE INDEX "webhook_subscription_resource" ON "webhook_subscription" ("resource_code", "status")');
    await runner.query('CREATE INDEX "webhook_subscription_unit" ON "webhook_subscription" ("unit_id")');
    await runner.query(
      `CREATE TABLE "webhook_delivery" ("id" uuid NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "subscription_id" uuid NOT NULL, "sequence" integer NOT NULL, "status" text NOT NULL, "attempts" integer NOT NULL DEFAULT '0', "last_status_code" integer, "last_error" text, "latency_ms" integer, "next_attempt_at" TIMESTAMP WITH TIME ZONE NOT NULL, "first_attempt_at" TIMESTAMP WITH TIME ZONE, "delivered_at" TIMESTAMP WITH TIME ZONE, "lease_until" TIMESTAMP WITH TIME ZONE, "grant_id" uuid NOT NULL, "cursor_from" text NOT NULL, "cursor_to" text NOT NULL, "rows" integer NOT NULL, "tombstones" integer NOT NULL, "bytes" integer NOT NULL, "sha256" text NOT NULL, "body" text NOT NULL, "manifest" jsonb NOT NULL, CONSTRAINT "PK_b1ae290239a778f12399db91354" PRIMARY KEY ("id"))`,
    );
    await runner.query('CREATE INDEX "webhook_delivery_due" ON "webhook_delivery" ("status", "next_attempt_at")');
    await runner.query('CREATE UNIQUE INDEX "webhook_delivery_subscription_sequence" ON "webhook_delivery" ("subscription_id", "sequence")');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE "webhook_delivery"');
    await runner.query('DROP TABLE "webhook_subscription"');
  }
}
