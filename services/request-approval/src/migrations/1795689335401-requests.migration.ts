import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Requests1795689335401 implements MigrationInterface {
  name = 'Requests1795689335401';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(
      'CREATE TABLE "share_request" ("id" uuid NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "applicant_unit_id" uuid NOT NULL, "filed_by" text NOT NULL, "track" text NOT NULL, "resource_code" text, "resource_name" text, "resource_version" integer, "provider_unit_id" uuid NOT NULL, "need" text, "items" jsonb NOT NULL, "service_mode" text NOT NULL, "purpose" text NOT NULL, "duty_basis" text NOT NULL, "expected_volume" integer NOT NULL, "valid_from" TIMESTAMP WITH TIME ZONE NOT NULL, "valid_to" TIMESTAMP WITH TIME ZONE NOT NULL, "attachments" jsonb NOT NULL DEFAULT \'[]\'::jsonb, "status" text NOT NULL, "submitted_at" TIMESTAMP WITH TIME ZONE, "provider_deadline" TIMESTAMP WITH TIME ZONE, "delayed" boolean NOT NULL DEFAULT false, "delayed_at" TIMESTAMP WITH TIME ZONE, "review" jsonb, "office_decision" jsonb, "filing_form" jsonb, "grant_id" uuid, "closed_at" TIMESTAMP WITH TIME ZONE, "version" integer NOT NULL DEFAULT \'1\', CONSTRAINT "PK_7d6afbda758a1457e6eac9b4519" PRIMARY KEY ("id"))',
    );
    await runner.query('CREATE INDEX "share_request_deadline" ON "share_request" ("provider_deadline") WHERE status = \'provider_review\' AND NOT delayed');
    await runner.query('CREATE INDEX "share_request_provider" ON "share_request" ("provider_unit_id", "id") ');
    await runner.query('CREATE INDEX "share_request_applicant" ON "share_request" ("applicant_unit_id", "id") ');
    await runner.query(
      'CREATE TABLE "grant" ("id" uuid NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "consumer_unit_id" uuid NOT NULL, "provider_unit_id" uuid NOT NULL, "resource_code" text NOT NULL, "items" jsonb NOT NULL, "row_filter" jsonb, "modes" jsonb NOT NULL, "rate_limit_per_second" integer NOT NULL, "daily_quota" integer NOT NULL, "valid_from" TIMESTAMP WITH TIME ZONE NOT NULL, "valid_to" TIMESTAMP WITH TIME ZONE NOT NULL, "purpose" text NOT NULL, "request_id" uuid NOT NULL, "status" text NOT NULL, "status_reason" text, "version" integer NOT NULL DEFAULT \'1\', CONSTRAINT "PK_451b51b02b610d55f542c542aa2" PRIMARY KEY ("id"))',
    );
    await runner.query('CREATE UNIQUE INDEX "grant_request" ON "grant" ("request_id") ');
    await runner.query('CREATE INDEX "grant_expiry" ON "grant" ("valid_to") WHERE status IN (\'active\', \'suspended\')');
    await runner.query('CREATE INDEX "grant_resource" ON "grant" ("resource_code") ');
    await runner.query('CREATE INDEX "grant_provider" ON "grant" ("provider_unit_id", "id") ');
    await runner.query('CREATE INDEX "grant_consumer" ON "grant" ("consumer_unit_id", "id") ');
    await runner.query(
      'CREATE TABLE "transition" ("id" uuid NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "subject_type" text NOT NULL, "subject_id" uuid NOT NULL, "action" text NOT NULL, "from_status" text, "to_status" text NOT NULL, "actor_kind" text NOT NULL, "actor_unit_id" uuid, "actor_id" text, "at" TIMESTAMP WITH TIME ZONE NOT NULL, "reason" text, CONSTRAINT "PK_bb9daff96e2e8586928b5757e4e" PRIMARY KEY ("id"))',
    );
    await runner.query('CREATE INDEX "transition_subject" ON "transition" ("subject_id", "at") ');
    await runner.query(
      'CREATE TABLE "commitment_acceptance" ("id" uuid NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "request_id" uuid NOT NULL, "unit_id" uuid NOT NULL, "signer_account_id" uuid NOT NULL, "accepted_at" TIMESTAMP WITH TIME ZONE NOT NULL, "commitment_version" text NOT NULL, "text_sha256" character(64) NOT NULL, CONSTRAINT "PK_42a23f3cc9eb935ea360dc6b405" PRIMARY KEY ("id"))',
    );
    await runner.query('CREATE UNIQUE INDEX "commitment_acceptance_request" ON "commitment_acceptance" ("request_id") ');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP INDEX "approval"."commitment_acceptance_request"');
    await runner.query('DROP TABLE "commitment_acceptance"');
    await runner.query('DROP INDEX "approval"."transition_subject"');
    await runner.query('DROP TABLE "transition"');
    await runner.query('DROP INDEX "approval"."grant_consumer"');
    await runner.query('DROP INDEX "approval"."grant_provider"');
    await runner.query('DROP INDEX "approval"."grant_resource"');
    await runner.query('DROP INDEX "approval"."grant_expiry"');
    await runner.query('DROP INDEX "approval"."grant_request"');
    await runner.query('DROP TABLE "grant"');
    await runner.query('DROP INDEX "approval"."share_request_applicant"');
    await runner.query('DROP INDEX "approval"."share_request_provider"');
    await runner.query('DROP INDEX "approval"."share_request_deadline"');
    await runner.query('DROP TABLE "share_request"');
  }
}
