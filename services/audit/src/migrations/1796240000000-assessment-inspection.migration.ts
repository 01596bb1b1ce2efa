import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Read models kept beside the trail (the trail itself is untouched): the assessment's daily
 * rollups per unit and metric, the catalogue state and update days it reads, and security
 * inspection's counters and alerts. Written in the trail's own transactions, so the writer
 * role may insert and update them (never the trail).
 */
export class AssessmentInspection1796240000000 implements MigrationInterface {
  name = 'AssessmentInspection1796240000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`CREATE TABLE assessment_rollup (
      unit_id text NOT NULL,
      metric text NOT NULL,
      day date NOT NULL,
      value bigint NOT NULL,
      PRIMARY KEY (unit_id, metric, day)
    )`);
    // The same sums by month: every period (month, quarter, year) is whole months, so a year reads twelve rows per unit and metric.
    await runner.query(`CREATE TABLE assessment_rollup_month (
      unit_id text NOT NULL,
      metric text NOT NULL,
      month date NOT NULL,
      value bigint NOT NULL,
      PRIMARY KEY (unit_id, metric, month)
    )`);
    await runner.query(`CREATE TABLE assessment_resource (
      code text PRIMARY KEY,
      provider_unit_id text NOT NULL,
      format text,
      class text,
      update_cycle text,
      catalogued_day date,
      published_day date,
      deprecated_day date,
      described_at timestamptz NOT NULL
    )`);
    await runner.query('CREATE INDEX assessment_resource_provider ON assessment_resource (provider_unit_id)');
    await runner.query(`CREATE TABLE assessment_update_day (
      code text NOT NULL,
      day date NOT NULL,
      PRIMARY KEY (code, day)
    )`);

    await runner.query(`CREATE TABLE inspection_counter (
      rule text NOT NULL,
      key text NOT NULL,
      window_start timestamptz NOT NULL,
      count bigint NOT NULL,
      amount bigint NOT NULL DEFAULT 0,
      record_ids text[] NOT NULL DEFAULT '{}',
      PRIMARY KEY (rule, key, window_start)
    )`);
    await runner.query(`CREATE TABLE inspection_key (
      client text NOT NULL,
      window_start timestamptz NOT NULL,
      digest text NOT NULL,
      seq integer NOT NULL DEFAULT -1,
      found boolean NOT NULL,
      PRIMARY KEY (client, window_start, digest, seq)
    )`);
    await runner.query(`CREATE TABLE inspection_grant (
      grant_id text PRIMARY KEY,
      unit_id text NOT NULL,
      valid_to timestamptz NOT NULL,
      version integer NOT NULL
    )`);
    await runner.query(`CREATE TABLE inspection_alert (
      id uuid PRIMARY KEY,
      rule text NOT NULL,
      dedupe_key text NOT NULL UNIQUE,
      unit_id text NOT NULL,
      owner_unit_id text,
      client_id text,
      grant_id text,
      resource_code text,
      window_start timestamptz NOT NULL,
      window_end timestamptz NOT NULL,
      figures jsonb NOT NULL,
      record_ids text[] NOT NULL,
      status text NOT NULL DEFAULT 'open',
      acknowledged_by text,
      acknowledged_at timestamptz,
      note text,
      created_at timestamptz NOT NULL DEFAULT now()
    )`);
    await runner.query('CREATE INDEX inspection_alert_unit ON inspection_alert (unit_id, id)');
    await runner.query(
      'GRANT SELECT, INSERT, UPDATE ON assessment_rollup, assessment_rollup_month, assessment_resource, assessment_update_day, inspection_counter, inspection_key, inspection_grant, inspection_alert TO gdx_audit_writer',
    );
  }

  async down(runner: QueryRunner): Promise<void> {
    for (const t of ['inspection_alert', 'inspection_grant', 'inspection_key', 'inspection_counter', 'assessment_update_day', 'assessment_resource', 'assessment_rollup_month', 'assessment_rollup'])
      await runner.query(`DROP TABLE ${t}`);
  }
}
