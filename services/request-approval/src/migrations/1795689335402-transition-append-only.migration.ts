import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The transition history is evidence (who decided what, when and why): rows are
 * only ever added. The trigger makes that a property of the database, not only of
 * the code, so a mistaken UPDATE or DELETE fails loudly instead of rewriting history.
 */
export class TransitionAppendOnly1795689335402 implements MigrationInterface {
  name = 'TransitionAppendOnly1795689335402';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`CREATE FUNCTION transition_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'transition rows are append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
END $$`);
    await runner.query('CREATE TRIGGER transition_append_only BEFORE UPDATE OR DELETE ON "transition" FOR EACH ROW EXECUTE FUNCTION transition_append_only()');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TRIGGER transition_append_only ON "transition"');
    await runner.query('DROP FUNCTION transition_append_only()');
  }
}
