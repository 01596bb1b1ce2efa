/**
 * `npm run bootstrap -- --username <name> [--display-name <text>]`: the first office
 * administrator of a production platform (DATABASE_URL; migrations applied). The password comes
 * from GDX_BOOTSTRAP_PASSWORD, or is generated and printed once. Does nothing when an office
 * administrator exists, so a release pipeline may run it every time.
 */
import { bootstrapOfficeAdmin, gatewayDataSource } from '@gdx/gateway';
import { startupFailure } from '@gdx/service-kit';
import { DEFAULT_DATABASE_URL } from './database';

function option(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<void> {
  const databaseUrl = process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL;
  const username = option('username');
  if (!username) {
    console.error('usage: npm run bootstrap -- --username <name> [--display-name <text>]   (password: GDX_BOOTSTRAP_PASSWORD, or generated)');
    process.exit(2);
  }
  const ds = gatewayDataSource(databaseUrl, 2);
  try {
    await ds.initialize();
  } catch (err) {
    console.error(`gdx: ${startupFailure(err, { databaseUrl })}`);
    process.exit(1);
  }
  try {
    const r = await bootstrapOfficeAdmin(ds, { username, displayName: option('display-name'), password: process.env.GDX_BOOTSTRAP_PASSWORD || undefined });
    if (!r.created) console.log(`gdx: nothing to do: ${r.reason}`);
    else if (r.password) console.log(`gdx: office administrator ${r.username} created; password (shown once, change it after signing in): ${r.password}`);
    else console.log(`gdx: office administrator ${r.username} created with the password from GDX_BOOTSTRAP_PASSWORD`);
  } catch (err) {
    console.error(`gdx: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  } finally {
    await ds.destroy();
  }
}

void main();
