/**
 * Recomputes the assessment's read models (daily rollups, catalogue state, update days)
 * from the audit trail, in one transaction, and prints what it did as JSON:
 *
 *   npm run assessment:rebuild        (DATABASE_URL and the audit service's other settings)
 *
 * The figures of every period are the same after it as before: the rollups are kept from
 * the records by the same definitions the rebuild replays.
 */
import { loadAuditConfig } from './config';
import { auditDataSource } from './data-source';
import { RollupService } from './assessment/rollup.service';

async function main(): Promise<void> {
  const config = loadAuditConfig();
  const db = auditDataSource(config.databaseUrl, 2);
  await db.initialize();
  try {
    const started = Date.now();
    const replayed = await new RollupService(config.assessmentUtcOffsetMinutes).rebuild(db);
    process.stdout.write(`${JSON.stringify({ replayed, ms: Date.now() - started })}\n`);
  } finally {
    await db.destroy();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`assessment rebuild failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
