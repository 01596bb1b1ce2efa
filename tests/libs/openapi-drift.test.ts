import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildOpenapiDocuments, serialise } from '@gdx/scripts';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { REDIS_URL } from '../helpers/redis';

let db: TestDatabase;
let docs: Awaited<ReturnType<typeof buildOpenapiDocuments>>;

beforeAll(async () => {
  db = await createTestDatabase();
  docs = await buildOpenapiDocuments(db.url, REDIS_URL);
});
afterAll(async () => {
  await db?.drop();
});

const names = ['gateway', 'catalogue', 'request-approval', 'data-query', 'audit', 'gdx'];

test.each(names)('openapi/%s.json is what the code generates (run `npm run openapi` after changing routes)', (name) => {
  const committed = readFileSync(join(__dirname, '..', '..', 'openapi', `${name}.json`), 'utf8');
  expect(committed).toBe(serialise(docs[name]));
});

test('every operation has a summary, tags and declared responses', () => {
  for (const [path, item] of Object.entries(docs.gdx.paths ?? {})) {
    for (const [method, op] of Object.entries(item as Record<string, { summary?: string; tags?: string[]; responses?: object }>)) {
      expect([path, method, !!op.summary, !!op.tags?.length, Object.keys(op.responses ?? {}).length > 0]).toEqual([path, method, true, true, true]);
    }
  }
});
