/** `npm run seed`: demo data from the reference file; safe to run again. */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { referenceData } from '@gdx/codes';
import { gatewayDataSource, seedIdentity, type SeededCredentials, Unit } from '@gdx/gateway';
import { catalogueDataSource, seedCatalogue } from '@gdx/catalogue';
import { DEFAULT_DATABASE_URL } from './database';

export const CREDENTIALS_FILE = '.gdx/demo-credentials.json';

/**
 * Units, one admin per unit, one business client per unit, the starter catalogue.
 * Generated passwords and secrets go to .gdx/demo-credentials.json (ignored by git);
 * a second run keeps what exists and reads the file for the printout.
 */
export async function seedAll(url: string): Promise<SeededCredentials> {
  const known: SeededCredentials = existsSync(CREDENTIALS_FILE) ? (JSON.parse(readFileSync(CREDENTIALS_FILE, 'utf8')) as SeededCredentials) : { accounts: [], clients: [] };
  const ref = referenceData();
  const gw = gatewayDataSource(url, 2);
  await gw.initialize();
  let creds: SeededCredentials;
  let unitIds: Record<string, string>;
  try {
    const fresh = await seedIdentity(gw, ref.units, known);
    creds = { accounts: fresh.accounts, clients: fresh.clients };
    unitIds = Object.fromEntries((await gw.getRepository(Unit).find()).map((u) => [u.key, u.id]));
  } finally {
    await gw.destroy();
  }
  const cat = catalogueDataSource(url, 2);
  await cat.initialize();
  try {
    await seedCatalogue(cat, unitIds);
  } finally {
    await cat.destroy();
  }
  mkdirSync(dirname(CREDENTIALS_FILE), { recursive: true, mode: 0o700 });
  writeFileSync(CREDENTIALS_FILE, JSON.stringify(creds, null, 2), { mode: 0o600 });
  return creds;
}

if (require.main === module) {
  seedAll(process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL)
    .then((c) => console.log(`seeded; credentials in ${CREDENTIALS_FILE} (${c.accounts.length} accounts, ${c.clients.length} clients)`))
    .catch((err: unknown) => {
      console.error(err);
      process.exit(1);
    });
}
