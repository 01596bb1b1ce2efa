import type { Client } from 'pg';
import { pendingSchemaChanges } from '@gdx/database';
import { auditDataSource } from '@gdx/audit';
import { PartitionService } from '@gdx/audit/testing';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { sql } from './audit-test-kit';

describe('audit schema', () => {
  let db: TestDatabase;
  let pg: Client;
  const ds = () => auditDataSource(db.url, 2);
  let source: ReturnType<typeof ds>;

  beforeAll(async () => {
    db = await createTestDatabase();
    pg = await sql(db.url);
    source = ds();
    await source.initialize();
  });

  afterAll(async () => {
    await source.destroy();
    await pg.end();
    await db.drop();
  });

  it('needs no migration for its entities (the trail tables are hand-written SQL)', async () => {
    expect(await pendingSchemaChanges(source)).toEqual([]);
  });

  it('partitions the records by month, with a default partition for the rest', async () => {
    const { rows } = await pg.query(
      `SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) AS bound FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'audit_record'::regclass ORDER BY 1`,
    );
    const names = rows.map((r) => r.relname as string);
    const month = (d: Date) => `audit_record_${d.toISOString().slice(0, 7).replace('-', '_')}`;
    const now = new Date();
    expect(names).toContain(month(now));
    expect(names).toContain(month(new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1))));
    expect(names).toContain('audit_record_default');
    expect(rows.find((r) => r.relname === 'audit_record_default').bound).toBe('DEFAULT');
    const { rows: kind } = await pg.query(`SELECT partstrat FROM pg_partitioned_table WHERE partrelid = 'audit_record'::regclass`);
    expect(kind[0].partstrat).toBe('r');
  });

  it('makes the months ahead as the writer role, idempotently, and records land in their month', async () => {
    const partitions = new PartitionService(source, 'gdx_audit_writer');
    const far = new Date(Date.UTC(2031, 4, 17));
    expect(await partitions.ensureAhead(far)).toEqual(['audit_record_2031_05', 'audit_record_2031_06']);
    expect(await partitions.ensureAhead(far)).toEqual(['audit_record_2031_05', 'audit_record_2031_06']);
    const { rows } = await pg.query(`SELECT pg_get_expr(c.relpartbound, c.oid) AS bound FROM pg_class c WHERE relname = 'audit_record_2031_05'`);
    expect(rows[0].bound).toBe(`FOR VALUES FROM ('2031-05-01 00:00:00+00') TO ('2031-06-01 00:00:00+00')`);
    // A new partition refuses TRUNCATE like the others.
    await expect(pg.query('TRUNCATE audit_record_2031_05')).rejects.toThrow(/append-only/);
    // The writer role can make partitions only through the function: it has no CREATE on the schema.
    const { rows: create } = await pg.query(`SELECT has_schema_privilege('gdx_audit_writer', 'audit', 'CREATE') AS ok`);
    expect(create[0].ok).toBe(false);
  });

  it('leaves a month in the default partition when records of it already landed there, instead of failing', async () => {
    await pg.query(`INSERT INTO audit_record (event_id, chain, position, type, occurred_at, recorded_at, actor_kind, subject, data, prev_hash, hash)
      VALUES (gen_random_uuid(), 99, 1, 'query.executed', '2040-03-05T00:00:00Z', now(), 'system', 's', '{}', repeat('0', 64), repeat('0', 64))`);
    const partitions = new PartitionService(source, 'gdx_audit_writer');
    expect(await partitions.ensureAhead(new Date(Date.UTC(2040, 1, 10)))).toEqual(['audit_record_2040_02', null]);
    const { rows } = await pg.query(`SELECT tableoid::regclass::text AS part FROM audit_record WHERE chain = 99`);
    expect(rows[0].part).toBe('audit_record_default');
  });
});
