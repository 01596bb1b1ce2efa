import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Hand-written: TypeORM cannot express these. They serve the catalogue's Chinese
 * substring search over name and summary joined (SEARCH_TEXT in resource.entity.ts).
 *
 * - A GIN trigram index answers terms of three characters or more (`ILIKE '%营业执照%'`).
 *   One expression index rather than one per column: PostgreSQL keeps statistics for an
 *   expression index, so the planner sees how rare a term is (measured on 10,000 rows:
 *   0.5 ms instead of a 25 ms scan).
 * - Most Chinese words have two characters, which contain no trigram. The column
 *   search_bigrams holds the text's distinct lower-cased bigrams, filled by a trigger (so
 *   every writer, seeds and bulk loads included, keeps it right), with a GIN index:
 *   `search_bigrams @> '{人口}'`. A stored column rather than an expression index, because
 *   a search walking the sort order evaluates the condition on every row it reads.
 *
 * fastupdate = off: a catalogue is written rarely and searched often, so new entries go
 * straight into the indexes instead of a pending list that every search would scan.
 * pg_trgm itself is created by migrate() in @gdx/database before any migration runs.
 */
export class SearchIndex1795690881172 implements MigrationInterface {
  name = 'SearchIndex1795690881172';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query('CREATE INDEX "resource_search_trgm" ON "resource" USING gin ((name || chr(31) || summary) gin_trgm_ops) WITH (fastupdate = off)');
    // Bigrams across the chr(31) separator are left out: no search term contains it.
    await runner.query(`CREATE FUNCTION search_bigrams(t text) RETURNS text[] LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
      SELECT coalesce(array_agg(DISTINCT b), '{}') FROM (SELECT substr(lower(t), i, 2) AS b FROM generate_series(1, char_length(t) - 1) AS i) s WHERE strpos(b, chr(31)) = 0
    $$`);
    await runner.query(`CREATE FUNCTION resource_search_bigrams() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        NEW.search_bigrams := search_bigrams(NEW.name || chr(31) || NEW.summary);
        RETURN NEW;
      END
    $$`);
    await runner.query('CREATE TRIGGER resource_search_bigrams BEFORE INSERT OR UPDATE OF name, summary, search_bigrams ON "resource" FOR EACH ROW EXECUTE FUNCTION resource_search_bigrams()');
    await runner.query('UPDATE "resource" SET search_bigrams = search_bigrams(name || chr(31) || summary)');
    await runner.query('CREATE INDEX "resource_search_bigram" ON "resource" USING gin ("search_bigrams") WITH (fastupdate = off)');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP INDEX "catalogue"."resource_search_bigram"');
    await runner.query('DROP TRIGGER resource_search_bigrams ON "resource"');
    await runner.query('DROP FUNCTION resource_search_bigrams()');
    await runner.query('DROP FUNCTION search_bigrams(text)');
    await runner.query('DROP INDEX "catalogue"."resource_search_trgm"');
  }
}
