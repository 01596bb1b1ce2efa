import { pendingSchemaChanges } from '@gdx/database';
import { SERVICE_DATABASES } from '@gdx/scripts';
import { createTestDatabase, type TestDatabase } from '../helpers/db';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

/** The template is built by running the migrations; the entities must need nothing more. */
test.each(SERVICE_DATABASES.map((s) => [s.name, s] as const))('%s: the entities need no migration that is missing', async (_name, service) => {
  const ds = service.dataSource(db.url);
  await ds.initialize();
  try {
    expect(await pendingSchemaChanges(ds)).toEqual([]);
  } finally {
    await ds.destroy();
  }
});
