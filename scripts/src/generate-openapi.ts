/** `npm run openapi`: regenerates openapi/*.json from the route schemas. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { buildOpenapiDocuments, serialise } from './openapi-documents';
import { DEFAULT_DATABASE_URL } from './database';
import { migrateAll } from './migrate';

async function main(): Promise<void> {
  const url = process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL;
  // The apps read their own tables when they start.
  await migrateAll(url, () => undefined);
  const docs = await buildOpenapiDocuments(url, process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  mkdirSync('openapi', { recursive: true });
  for (const [name, doc] of Object.entries(docs)) writeFileSync(`openapi/${name}.json`, serialise(doc));
  console.log(
    `wrote ${Object.keys(docs)
      .map((n) => `openapi/${n}.json`)
      .join(', ')}`,
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
