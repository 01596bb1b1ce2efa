/**
 * Writes the migration that brings a service's schema in line with its entities:
 *   node scripts/dist/generate-migration.js <service> <Name>
 * It migrates a scratch database to the current head, asks TypeORM what is still
 * missing, and writes that as services/<service>/src/migrations/<timestamp>-<name>.ts.
 */
import { writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { migrate } from '@gdx/database';
import { SERVICE_DATABASES } from './services';

async function main(): Promise<void> {
  const [service, name] = process.argv.slice(2);
  const def = SERVICE_DATABASES.find((s) => s.name === service);
  if (!def || !name || !/^[A-Z][A-Za-z0-9]+$/.test(name)) {
    console.error('usage: generate-migration <service> <PascalCaseName>');
    process.exit(2);
  }
  const admin = process.env.DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const scratch = 'gdx_migration_scratch';
  const c = new Client({ connectionString: admin });
  await c.connect();
  await c.query(`DROP DATABASE IF EXISTS ${scratch} WITH (FORCE)`);
  await c.query(`CREATE DATABASE ${scratch}`);
  const url = new URL(admin);
  url.pathname = `/${scratch}`;
  const ds = def.dataSource(url.toString());
  await migrate(ds);
  await ds.initialize();
  const log = await ds.driver.createSchemaBuilder().log();
  await ds.destroy();
  await c.query(`DROP DATABASE IF EXISTS ${scratch} WITH (FORCE)`);
  await c.end();
  if (!log.upQueries.length) {
    console.log('the entities need no migration');
    return;
  }
  const ts = Date.now();
  const cls = `${name}${ts}`;
  const q = (x: { query: string; parameters?: unknown[] }) => `    await runner.query(${JSON.stringify(x.query)}${x.parameters?.length ? `, ${JSON.stringify(x.parameters)}` : ''});`;
  const file = `import type { MigrationInterface, QueryRunner } from 'typeorm';

export class ${cls} implements MigrationInterface {
  name = '${cls}';

  async up(runner: QueryRunner): Promise<void> {
${log.upQueries.map(q).join('\n')}
  }

  async down(runner: QueryRunner): Promise<void> {
${log.downQueries.map(q).reverse().join('\n')}
  }
}
`;
  const kebab = name.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();
  const dir = join(def.dir, 'src', 'migrations');
  const fileName = `${ts}-${kebab}.migration`;
  writeFileSync(join(dir, `${fileName}.ts`), file);
  const indexPath = join(dir, 'index.ts');
  const index = readFileSync(indexPath, 'utf8');
  const imports = [...index.matchAll(/^import .*$/gm)].map((m) => m[0]);
  const names = [...index.matchAll(/^import \{ (\w+) \}/gm)].map((m) => m[1]);
  imports.push(`import { ${cls} } from './${fileName}';`);
  names.push(cls);
  writeFileSync(indexPath, `${imports.join('\n')}\n\n// Applied in this order.\nexport const migrations = [${names.join(', ')}];\n`);
  console.log(`wrote ${join(dir, fileName)}.ts`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
