import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { migrate } from '@gdx/database';
import { SERVICE_DATABASES } from '@gdx/scripts';
import { ADMIN_URL, databaseUrl } from './helpers/db';

/**
 * The migrations' content names the template, so a changed migration builds a new one.
 * Both the sources and the compiled files count: the setup runs what is compiled, and
 * a stale build must not leave its template behind under the sources' name.
 */
function migrationsHash(): string {
  const h = createHash('sha256');
  for (const s of SERVICE_DATABASES) {
    for (const kind of ['src', 'dist']) {
      const dir = join(__dirname, '..', s.dir, kind, 'migrations');
      if (!existsSync(dir)) continue;
      for (const f of readdirSync(dir).sort()) if (!f.endsWith('.map')) h.update(f).update(readFileSync(join(dir, f)));
    }
  }
  return h.digest('hex').slice(0, 12);
}

/**
 * Builds (once per set of migrations) the template every test database is cloned
 * from: all service schemas, migrated. Built under another name and renamed, under
 * an advisory lock, so concurrent test runs never see half a template.
 */
export default async function globalSetup(): Promise<void> {
  const template = `gdx_tpl_${migrationsHash()}`;
  process.env.TEST_TEMPLATE_DB = template;
  const c = new Client({ connectionString: ADMIN_URL });
  await c.connect();
  try {
    await c.query(`SELECT pg_advisory_lock(hashtext('gdx-test-template'))`);
    const exists = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [template]);
    if (!exists.rowCount) {
      const building = `${template}_building`;
      await c.query(`DROP DATABASE IF EXISTS ${building} WITH (FORCE)`);
      await c.query(`CREATE DATABASE ${building}`);
      for (const s of SERVICE_DATABASES) await migrate(s.dataSource(databaseUrl(building)));
      await c.query(`ALTER DATABASE ${building} RENAME TO ${template}`);
    }
  } finally {
    await c.query(`SELECT pg_advisory_unlock(hashtext('gdx-test-template'))`).catch(() => undefined);
    await c.end();
  }
}
