import type { QueryRunner } from 'typeorm';

/**
 * The schema change of the outbox for Redis-loss replay (outbox-relay.ts), the same in every
 * service that has an outbox: each service's migration of that name runs these, so the tables
 * this package declares are migrated by this package's one description of them.
 */
export async function outboxReplayUp(runner: QueryRunner): Promise<void> {
  await runner.query(
    'CREATE TABLE "outbox_stream" ("id" uuid NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "domain" text NOT NULL, "epoch" text NOT NULL, "acked_ms" bigint NOT NULL DEFAULT \'0\', "acked_seq" bigint NOT NULL DEFAULT \'0\', CONSTRAINT "PK_2ad5d589a4f0c98d642e6bb222e" PRIMARY KEY ("id"))',
  );
  await runner.query('CREATE UNIQUE INDEX "outbox_stream_domain" ON "outbox_stream" ("domain") ');
  // The envelope as the JSON text it was written as: jsonb would refuse what a caller may send (NUL, a lone surrogate) and re-serialise every row.
  await runner.query('ALTER TABLE "outbox" ALTER COLUMN "envelope" TYPE text USING "envelope"::text');
  await runner.query('ALTER TABLE "outbox" ADD "stream_ms" bigint');
  await runner.query('ALTER TABLE "outbox" ADD "stream_seq" bigint');
  await runner.query('CREATE INDEX "outbox_published_at" ON "outbox" ("published_at") WHERE published_at IS NOT NULL');
}

export async function outboxReplayDown(runner: QueryRunner, schema: string): Promise<void> {
  await runner.query(`DROP INDEX "${schema}"."outbox_published_at"`);
  await runner.query('ALTER TABLE "outbox" DROP COLUMN "stream_seq"');
  await runner.query('ALTER TABLE "outbox" DROP COLUMN "stream_ms"');
  await runner.query('ALTER TABLE "outbox" ALTER COLUMN "envelope" TYPE jsonb USING "envelope"::jsonb');
  await runner.query(`DROP INDEX "${schema}"."outbox_stream_domain"`);
  await runner.query('DROP TABLE "outbox_stream"');
}
