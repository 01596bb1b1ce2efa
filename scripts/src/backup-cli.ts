/**
 *   npm run backup -- --to /mnt/same-city --to /mnt/off-site     (DATABASE_URL, AUDIT_KEYS_DIR)
 *   npm run restore -- --from /mnt/off-site/gdx-20261202T120000 [--database-url postgres://…/gdx_restored]
 * Restore answers the row counts compared and the audit verification as JSON; exit 0 when both
 * hold, 1 when not, 2 when it could not run.
 */
import { backup, restore } from './backup';
import { DEFAULT_DATABASE_URL, ensureDatabase } from './database';

function values(argv: string[], flag: string): string[] {
  return argv.flatMap((a, i) => (a === flag && argv[i + 1] ? [argv[i + 1]] : []));
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const url = values(rest, '--database-url')[0] ?? process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL;
  if (command === 'backup') {
    const { folders, manifest } = await backup(url, values(rest, '--to'), process.env.AUDIT_KEYS_DIR ?? '.gdx/audit-keys');
    console.log(JSON.stringify({ folders, files: manifest.files, tables: Object.keys(manifest.counts).length }, null, 2));
    return 0;
  }
  if (command === 'restore') {
    const [from] = values(rest, '--from');
    if (!from) throw new Error('name the backup folder (--from)');
    await ensureDatabase(url);
    const report = await restore(from, url);
    console.log(JSON.stringify(report, null, 2));
    return report.countsEqual && report.audit.ok ? 0 : 1;
  }
  throw new Error('usage: backup-cli backup --to DIR [--to DIR] | restore --from DIR [--database-url URL]');
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(2);
  },
);
