import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Hand-written: TypeORM cannot describe a partitioned table, triggers, grants or
 * roles, so the trail's tables stay out of the entity list (see data-source.ts) and
 * are read and written with SQL by the repositories in ../trail.
 *
 * - audit_record: RANGE-partitioned by month on occurred_at, so old months can be
 *   detached and archived without touching the live ones; a default partition keeps
 *   anything outside the prepared months (clock skew, replays of old events).
 * - audit_record_key: a unique constraint on a partitioned table must include the
 *   partition key, so the "one record per event id" rule lives in this plain table
 *   (it also tells a lookup by id which partition to read).
 * - audit_checkpoint: signed checkpoints, a chain of their own (seq, previous_hash).
 * - Append-only twice over: the writer role gets SELECT and INSERT only, and a
 *   trigger refuses UPDATE, DELETE and TRUNCATE even for the owner.
 */
export class AuditTrail1795689233405 implements MigrationInterface {
  name = 'AuditTrail1795689233405';

  async up(runner: QueryRunner): Promise<void> {
    const schema = (runner.connection.options as { schema?: string }).schema ?? 'audit';
    await runner.query(`
      CREATE TABLE audit_record (
        event_id uuid NOT NULL,
        chain integer NOT NULL,
        position bigint NOT NULL,
        type text NOT NULL,
        occurred_at timestamptz NOT NULL,
        recorded_at timestamptz NOT NULL,
        actor_kind text NOT NULL,
        actor_unit_id text,
        actor_account_id text,
        actor_client_id text,
        subject text NOT NULL,
        traceparent text,
        resource_code text,
        grant_id text,
        route text,
        mode text,
        items text[],
        row_count bigint,
        result text,
        latency_ms double precision,
        request_id text,
        source_address text,
        owner_unit_id text,
        data jsonb NOT NULL,
        prev_hash text NOT NULL,
        hash text NOT NULL,
        CONSTRAINT audit_record_pk PRIMARY KEY (occurred_at, event_id)
      ) PARTITION BY RANGE (occurred_at)`);
    // Few indexes on purpose: each one costs ingestion throughput. The primary key and
    // (chain, position) grow at their right edge (time-ordered ids, increasing
    // positions) and are nearly free; the unit indexes serve every unit's view; the
    // partial ones only grow with rows that carry the field. Request and grant ids
    // are only ever matched exactly, so hash indexes: a quarter of a btree's size
    // for random uuids, and cheaper to insert into.
    await runner.query('CREATE INDEX audit_record_chain ON audit_record (chain, position)');
    await runner.query('CREATE INDEX audit_record_actor_unit ON audit_record (actor_unit_id, occurred_at)');
    await runner.query('CREATE INDEX audit_record_owner_unit ON audit_record (owner_unit_id, occurred_at) WHERE owner_unit_id IS NOT NULL');
    await runner.query('CREATE INDEX audit_record_resource ON audit_record (resource_code, occurred_at) WHERE resource_code IS NOT NULL');
    await runner.query('CREATE INDEX audit_record_request ON audit_record USING hash (request_id) WHERE request_id IS NOT NULL');
    await runner.query('CREATE INDEX audit_record_grant ON audit_record USING hash (grant_id) WHERE grant_id IS NOT NULL');
    await runner.query('CREATE TABLE audit_record_default PARTITION OF audit_record DEFAULT');

    await runner.query('CREATE TABLE audit_record_key (event_id uuid PRIMARY KEY, occurred_at timestamptz NOT NULL)');
    await runner.query(`
      CREATE TABLE audit_checkpoint (
        seq bigint PRIMARY KEY,
        id uuid NOT NULL UNIQUE,
        created_at timestamptz NOT NULL,
        size bigint NOT NULL,
        heads jsonb NOT NULL,
        previous_hash text NOT NULL,
        key_id text NOT NULL,
        hash text NOT NULL,
        signature text NOT NULL
      )`);

    await runner.query(`
      CREATE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'the audit trail is append-only: % on % refused', TG_OP, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
      END $$`);
    for (const table of ['audit_record', 'audit_record_key', 'audit_checkpoint']) {
      // Row triggers on the partitioned table are cloned onto every partition, present and future.
      await runner.query(`CREATE TRIGGER ${table}_no_change BEFORE UPDATE OR DELETE ON ${table} FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()`);
      await runner.query(`CREATE TRIGGER ${table}_no_truncate BEFORE TRUNCATE ON ${table} FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()`);
    }
    // TRUNCATE triggers are not cloned, so each partition gets its own.
    await runner.query('CREATE TRIGGER audit_record_no_truncate BEFORE TRUNCATE ON audit_record_default FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()');

    // The writer role creates next month's partition through this function only; it
    // runs with the owner's rights (SECURITY DEFINER) and a pinned search_path.
    await runner.query(`
      CREATE FUNCTION audit_ensure_month(month timestamptz) RETURNS text
      LANGUAGE plpgsql SECURITY DEFINER SET search_path = "${schema}", pg_temp AS $$
      DECLARE
        first timestamptz := date_trunc('month', month AT TIME ZONE 'UTC') AT TIME ZONE 'UTC';
        name text := 'audit_record_' || to_char(first AT TIME ZONE 'UTC', 'YYYY_MM');
      BEGIN
        IF to_regclass(quote_ident('${schema}') || '.' || quote_ident(name)) IS NULL THEN
          BEGIN
            EXECUTE format('CREATE TABLE %I PARTITION OF audit_record FOR VALUES FROM (%L) TO (%L)', name, first, first + interval '1 month');
            EXECUTE format('CREATE TRIGGER audit_record_no_truncate BEFORE TRUNCATE ON %I FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()', name);
          EXCEPTION WHEN check_violation THEN
            -- The default partition already holds records of that month (events stamped
            -- far ahead): they stay there, append-only, and so does the rest of the month.
            RAISE WARNING 'audit partition % not created: the default partition holds records of that month', name;
            RETURN NULL;
          END;
        END IF;
        RETURN name;
      END $$`);
    await runner.query(`SELECT audit_ensure_month(now() + make_interval(months => m)) FROM generate_series(-2, 2) AS m`);

    // A NOLOGIN role: the service's login role is made a member and writes under it.
    await runner.query(`
      DO $$ BEGIN
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'gdx_audit_writer') THEN
          CREATE ROLE gdx_audit_writer NOLOGIN;
        END IF;
      EXCEPTION WHEN duplicate_object THEN NULL; -- created by a concurrent migration
      END $$`);
    await runner.query(`GRANT USAGE ON SCHEMA "${schema}" TO gdx_audit_writer`);
    await runner.query('GRANT SELECT, INSERT ON audit_record, audit_record_key, audit_checkpoint TO gdx_audit_writer');
    await runner.query('REVOKE ALL ON FUNCTION audit_ensure_month(timestamptz) FROM PUBLIC');
    await runner.query('GRANT EXECUTE ON FUNCTION audit_ensure_month(timestamptz) TO gdx_audit_writer');
    await runner.query(`
      DO $$ BEGIN
        IF NOT pg_has_role(current_user, 'gdx_audit_writer', 'MEMBER') THEN
          EXECUTE format('GRANT gdx_audit_writer TO %I', current_user);
        END IF;
      END $$`);
  }

  async down(runner: QueryRunner): Promise<void> {
    const schema = (runner.connection.options as { schema?: string }).schema ?? 'audit';
    await runner.query(`REVOKE ALL ON ALL TABLES IN SCHEMA "${schema}" FROM gdx_audit_writer`);
    await runner.query(`REVOKE USAGE ON SCHEMA "${schema}" FROM gdx_audit_writer`);
    await runner.query('DROP FUNCTION audit_ensure_month(timestamptz)');
    await runner.query('DROP TABLE audit_checkpoint');
    await runner.query('DROP TABLE audit_record_key');
    await runner.query('DROP TABLE audit_record');
    await runner.query('DROP FUNCTION audit_refuse_change()');
  }
}
