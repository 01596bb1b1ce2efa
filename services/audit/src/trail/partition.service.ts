import type { DataSource } from 'typeorm';
import { setWriterRole } from './writer-role';

/**
 * Keeps a partition ready for this month and the next, so records never pile up in
 * the default partition (from where a month could no longer be split off without
 * moving rows). Runs as the writer role through the SECURITY DEFINER function the
 * migration made, the only DDL that role can cause.
 */
export class PartitionService {
  constructor(
    private readonly db: DataSource,
    private readonly writerRole: string,
  ) {}

  /** The partitions of this month and the next; null for a month the default partition already holds records of. */
  async ensureAhead(now = new Date()): Promise<(string | null)[]> {
    return this.db.transaction(async (m) => {
      await setWriterRole(m, this.writerRole);
      const rows: { name: string | null }[] = await m.query(`SELECT audit_ensure_month($1::timestamptz + make_interval(months => n)) AS name FROM generate_series(0, 1) AS n ORDER BY n`, [
        now.toISOString(),
      ]);
      return rows.map((r) => r.name);
    });
  }
}
