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
 * a second run keeps what exists and reads the file for the printout. When the demo
 * accounts and clients exist but the file does not hold their working secrets (a second
 * clone on the same database, a deleted .gdx/), their secrets are reset and listed in
 * `reset`, so the printout always lets a newcomer in.
 */
export async function seedAll(url: string, options: { credentialsFile?: string } = {}): Promise<SeededCredentials & { reset: string[] }> {
  const file = options.credentialsFile ?? CREDENTIALS_FILE;
  const known: SeededCredentials = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as SeededCredentials) : { accounts: [], clients: [] };
  const ref = referenceData();
  const gw = gatewayDataSource(url, 2);
  await gw.initialize();
  let creds: SeededCredentials;
  let unitIds: Record<string, string>;
  let reset: string[];
  try {
    const fresh = await seedIdentity(gw, ref.units, known);
    creds = { accounts: fresh.accounts, clients: fresh.clients };
    reset = fresh.reset ?? [];
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
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(file, JSON.stringify(creds, null, 2), { mode: 0o600 });
  return { ...creds, reset };
}

/** What a start or a seed says when it had to give demo accounts or clients new secrets. */
export function resetNotice(reset: readonly string[], file = CREDENTIALS_FILE): string | undefined {
  if (!reset.length) return undefined;
  return `the demo data was already in the database but ${file} did not hold its secrets: new passwords / client secrets were set for ${reset.join(', ')}`;
}

if (require.main === module) {
  seedAll(process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL)
    .then((c) => {
      const notice = resetNotice(c.reset);
      if (notice) console.log(`seed: ${notice}`);
      console.log(`seeded; credentials in ${CREDENTIALS_FILE} (${c.accounts.length} accounts, ${c.clients.length} clients)`);
    })
    .catch((err: unknown) => {
      console.error(err);
      process.exit(1);
    });
}
