import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Cases (objections, complaints, rectification orders), circulars and maintenance notices.
 * Written answers, circulars and notice revisions are evidence: like transitions, rows are
 * only ever added, enforced by the database (the function of the transition trigger, whose
 * message names the table).
 */
export class Cases1796231477463 implements MigrationInterface {
  name = 'Cases1796231477463';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(
      'CREATE TABLE "supervision_case" ("id" uuid NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "type" text NOT NULL, "number" text NOT NULL, "status" text NOT NULL, "opened_by_unit_id" uuid NOT NULL, "opened_by" text NOT NULL, "against_unit_id" uuid NOT NULL, "resource_code" text, "summary" text NOT NULL, "deadline" TIMESTAMP WITH TIME ZONE, "overdue" boolean NOT NULL DEFAULT false, "overdue_at" TIMESTAMP WITH TIME ZONE, "closed_at" TIMESTAMP WITH TIME ZONE, "details" jsonb NOT NULL, "version" integer NOT NULL, CONSTRAINT "UQ_ae0811960ff0d39d0b1138fbdfe" UNIQUE ("number"), CONSTRAINT "PK_96c90a9c8363fd410622846e500" PRIMARY KEY ("id"))',
    );
    await runner.query('CREATE INDEX "case_deadline" ON "supervision_case" ("deadline") WHERE NOT overdue AND deadline IS NOT NULL');
    await runner.query('CREATE INDEX "case_against" ON "supervision_case" ("against_unit_id", "id") ');
    await runner.query('CREATE INDEX "case_opened_by" ON "supervision_case" ("opened_by_unit_id", "id") ');
    await runner.query(
      'CREATE TABLE "case_document" ("id" uuid NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "case_id" uuid NOT NULL, "kind" text NOT NULL, "author_unit_id" uuid NOT NULL, "author_kind" text NOT NULL, "author_id" text NOT NULL, "text" text NOT NULL, "attachments" jsonb NOT NULL, "outcome" jsonb, "at" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "PK_ec7b8f5c5bbda47d84b23d6f944" PRIMARY KEY ("id"))',
    );
    await runner.query('CREATE INDEX "case_document_case" ON "case_document" ("case_id", "at") ');
    await runner.query(
      'CREATE TABLE "case_counter" ("id" uuid NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "prefix" text NOT NULL, "year" integer NOT NULL, "last" integer NOT NULL, CONSTRAINT "PK_57f77ffed1d215286fec1b2140a" PRIMARY KEY ("id"))',
    );
    await runner.query('CREATE UNIQUE INDEX "case_counter_prefix_year" ON "case_counter" ("prefix", "year") ');
    await runner.query(
      'CREATE TABLE "circular" ("id" uuid NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "number" text NOT NULL, "case_id" uuid NOT NULL, "unit_id" uuid NOT NULL, "reason" text NOT NULL, "text" text NOT NULL, "published_at" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "UQ_d23dda702de839adeb2cc0e3b97" UNIQUE ("number"), CONSTRAINT "UQ_2eac48a945fbe827423272fbf3d" UNIQUE ("case_id"), CONSTRAINT "PK_de26e13190445db772aa221f236" PRIMARY KEY ("id"))',
    );
    await runner.query('CREATE INDEX "circular_unit" ON "circular" ("unit_id") ');
    await runner.query(
      'CREATE TABLE "notice" ("id" uuid NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "number" text NOT NULL, "issuer_unit_id" uuid NOT NULL, "issued_by" text NOT NULL, "starts_at" TIMESTAMP WITH TIME ZONE NOT NULL, "ends_at" TIMESTAMP WITH TIME ZONE NOT NULL, "services" text array NOT NULL, "resource_codes" text array NOT NULL, "description" text NOT NULL, "emergency" boolean NOT NULL, "emergency_reason" text, "status" text NOT NULL, "cancel_reason" text, "version" integer NOT NULL, CONSTRAINT "UQ_fa07dc61f795bd5449cd948904a" UNIQUE ("number"), CONSTRAINT "PK_705062b14410ff1a04998f86d72" PRIMARY KEY ("id"))',
    );
    await runner.query('CREATE INDEX "notice_window" ON "notice" ("ends_at", "starts_at") ');
    await runner.query(
      'CREATE TABLE "notice_revision" ("id" uuid NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "notice_id" uuid NOT NULL, "version" integer NOT NULL, "action" text NOT NULL, "actor_unit_id" uuid NOT NULL, "actor_id" text NOT NULL, "at" TIMESTAMP WITH TIME ZONE NOT NULL, "reason" text, "notice" jsonb NOT NULL, CONSTRAINT "PK_90d4669e7071d683bc24547f2d1" PRIMARY KEY ("id"))',
    );
    await runner.query('CREATE UNIQUE INDEX "notice_revision_notice" ON "notice_revision" ("notice_id", "version") ');
    await runner.query(
      'CREATE TABLE "known_batch" ("id" uuid NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "resource_code" text NOT NULL, "change_seq" bigint NOT NULL, "provider_unit_id" uuid NOT NULL, "accepted_at" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "PK_f980cd3fcd65cf58e02f503231e" PRIMARY KEY ("id"))',
    );
    await runner.query('CREATE UNIQUE INDEX "known_batch_resource_seq" ON "known_batch" ("resource_code", "change_seq") ');
    await runner.query(`CREATE FUNCTION evidence_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% rows are append-only (% refused)', TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
END $$`);
    for (const table of ['case_document', 'circular', 'notice_revision']) {
      await runner.query(`CREATE TRIGGER ${table}_append_only BEFORE UPDATE OR DELETE ON "${table}" FOR EACH ROW EXECUTE FUNCTION evidence_append_only()`);
    }
  }

  async down(runner: QueryRunner): Promise<void> {
    for (const table of ['case_document', 'circular', 'notice_revision']) await runner.query(`DROP TRIGGER ${table}_append_only ON "${table}"`);
    await runner.query('DROP FUNCTION evidence_append_only()');
    await runner.query('DROP INDEX "approval"."known_batch_resource_seq"');
    await runner.query('DROP TABLE "known_batch"');
    await runner.query('DROP INDEX "approval"."notice_revision_notice"');
    await runner.query('DROP TABLE "notice_revision"');
    await runner.query('DROP INDEX "approval"."notice_window"');
    await runner.query('DROP TABLE "notice"');
    await runner.query('DROP INDEX "approval"."circular_unit"');
    await runner.query('DROP TABLE "circular"');
    await runner.query('DROP INDEX "approval"."case_counter_prefix_year"');
    await runner.query('DROP TABLE "case_counter"');
    await runner.query('DROP INDEX "approval"."case_document_case"');
    await runner.query('DROP TABLE "case_document"');
    await runner.query('DROP INDEX "approval"."case_opened_by"');
    await runner.query('DROP INDEX "approval"."case_against"');
    await runner.query('DROP INDEX "approval"."case_deadline"');
    await runner.query('DROP TABLE "supervision_case"');
  }
}
