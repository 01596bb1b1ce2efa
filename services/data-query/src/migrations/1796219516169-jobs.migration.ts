import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Customization jobs (数据定制): the job row (entity `Job`), and the bulk tables its records live in,
 * read and written by SQL only: `job_input` (each submitted record, its row key and what is wrong
 * with it, as the ingest found it) and `job_result` (the result as NDJSON text in blocks of up to 1,000 lines, each keyed by its
 * first line's number: a thousand times fewer rows to write and index than one per line).
 * Those two are UNLOGGED: a job's working data is the caller's to send again, not the platform's
 * record (the job row and its events are logged), and writing a million records without WAL costs
 * a quarter less. PostgreSQL empties unlogged tables after a crash and on a promoted standby; the
 * one row of `job_storage` goes with them, and the job sweep, finding it gone, ends the jobs whose
 * data was lost (STORAGE_LOST) instead of serving a partial result.
 */
export class Jobs1796219516169 implements MigrationInterface {
  name = 'Jobs1796219516169';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(
      'CREATE TABLE "job" ("id" uuid NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "unit_id" uuid NOT NULL, "account_id" text, "client_id" text, "kind" text NOT NULL, "resource_code" text NOT NULL, "provider_unit_id" uuid NOT NULL, "grant_id" uuid NOT NULL, "status" text NOT NULL, "source" text NOT NULL, "source_job_id" uuid, "parameters" jsonb NOT NULL, "items" jsonb NOT NULL, "columns" jsonb NOT NULL, "result_format" text NOT NULL, "total" integer, "done" integer NOT NULL DEFAULT \'0\', "counts" jsonb NOT NULL DEFAULT \'{}\', "result_records" integer NOT NULL DEFAULT \'0\', "result_sha256" text, "checkpoint" integer NOT NULL DEFAULT \'0\', "slice_after" text, "ticket" uuid, "heartbeat_at" TIMESTAMP WITH TIME ZONE, "failures" integer NOT NULL DEFAULT \'0\', "error" text, "started_at" TIMESTAMP WITH TIME ZONE, "finished_at" TIMESTAMP WITH TIME ZONE, "expires_at" TIMESTAMP WITH TIME ZONE, "request_id" text NOT NULL, "source_address" text NOT NULL, CONSTRAINT "PK_98ab1c14ff8d1cf80d18703b92f" PRIMARY KEY ("id"))',
    );
    await runner.query('CREATE INDEX "job_status" ON "job" ("status", "heartbeat_at") ');
    await runner.query('CREATE INDEX "job_unit" ON "job" ("unit_id", "id") ');
    await runner.query(
      'CREATE UNLOGGED TABLE "job_input" ("job_id" uuid NOT NULL, "seq" integer NOT NULL, "key" text, "problem" text, "problems" jsonb, "vals" text[], "record" jsonb, PRIMARY KEY ("job_id", "seq"))',
    );
    await runner.query('CREATE UNLOGGED TABLE "job_result" ("job_id" uuid NOT NULL, "seq" integer NOT NULL, "lines" integer NOT NULL, "block" text NOT NULL, PRIMARY KEY ("job_id", "seq"))');
    // Blocks are written once and read whole, mostly already compressed by nobody: stored out of line, uncompressed.
    await runner.query('ALTER TABLE "job_result" ALTER COLUMN "block" SET STORAGE EXTERNAL');
    await runner.query('CREATE UNLOGGED TABLE "job_storage" ("marker" boolean PRIMARY KEY)');
    await runner.query('INSERT INTO "job_storage" VALUES (true)');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE "job_storage"');
    await runner.query('DROP TABLE "job_result"');
    await runner.query('DROP TABLE "job_input"');
    await runner.query('DROP INDEX "data_query"."job_unit"');
    await runner.query('DROP INDEX "data_query"."job_status"');
    await runner.query('DROP TABLE "job"');
  }
}
