/** `npm run migrate`: creates the database if needed and applies every service's migrations. */
import { migrate } from '@gdx/database';
import { SERVICE_DATABASES } from './services';
import { DEFAULT_DATABASE_URL, ensureDatabase } from './database';

export async function migrateAll(url: string, log: (s: string) => void = console.log): Promise<void> {
  await ensureDatabase(url);
  for (const s of SERVICE_DATABASES) {
    const applied = await migrate(s.dataSource(url));
    log(`${s.name}: ${applied.length ? `applied ${applied.join(', ')}` : 'up to date'}`);
  }
}

if (require.main === module) {
  migrateAll(process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL).catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
