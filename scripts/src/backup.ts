/**
 * `npm run backup -- --to DIR [--to DIR …]` and `npm run restore -- --from DIR`: the small
 * deployments' backup (issue 16; production uses CloudNativePG's WAL archive and base backups).
 *
 * A backup is a set of files written whole to every destination (same-city and off-site,
 * Art. 22/26): `gdx.dump` (pg_dump custom format, every service's schema), `audit-keys.json`
 * (the audit trail's public checkpoint keys, so a restore can be verified without the private
 * ones) and `manifest.json` (when, what, each file's SHA-256 and every table's row count). Each
 * copy is hashed again after it was written. A restore checks the hashes, restores into an empty
 * database, compares the row counts and verifies the audit trail (chains and checkpoints).
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { auditPublicKeys, verifyDatabaseTrail, type PublicKeyEntry } from '@gdx/audit';
import { SERVICE_DATABASES } from './services';

const run = promisify(execFile);
export const BACKUP_FORMAT = 'gdx-backup/1';

export interface BackupManifest {
  format: typeof BACKUP_FORMAT;
  createdAt: string;
  database: string;
  pgDump: string;
  files: { name: string; bytes: number; sha256: string }[];
  /** Rows per table (`schema.table`) when the dump was taken. */
  counts: Record<string, number>;
}

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Every service's tables and their row counts (partitions counted through their parent), as `c` sees them. */
export async function tableCounts(c: Client, url: string): Promise<Record<string, number>> {
  const schemas = SERVICE_DATABASES.map((s) => (s.dataSource(url).options as { schema: string }).schema);
  const { rows } = await c.query<{ schema: string; name: string }>(
    `SELECT n.nspname AS schema, t.relname AS name FROM pg_class t JOIN pg_namespace n ON n.oid = t.relnamespace
      WHERE t.relkind IN ('r', 'p') AND NOT t.relispartition AND n.nspname = ANY($1) ORDER BY 1, 2`,
    [schemas],
  );
  const counts: Record<string, number> = {};
  for (const r of rows) {
    const { rows: n } = await c.query<{ n: string }>(`SELECT count(*)::text AS n FROM "${r.schema}"."${r.name}"`);
    counts[`${r.schema}.${r.name}`] = Number(n[0].n);
  }
  return counts;
}

async function withClient<T>(url: string, work: (c: Client) => Promise<T>): Promise<T> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    return await work(c);
  } finally {
    await c.end();
  }
}

/** Takes a backup of `url` into a new folder under each destination; answers the folders. */
export async function backup(url: string, destinations: string[], auditKeysDir: string): Promise<{ folders: string[]; manifest: BackupManifest }> {
  if (!destinations.length) throw new Error('name at least one destination (--to), better two in different places');
  const work = await mkdtemp(join(tmpdir(), 'gdx-backup-'));
  try {
    const dump = join(work, 'gdx.dump');
    // The counts and the dump see one snapshot (exported, then handed to pg_dump): what the manifest
    // counts is exactly what the dump holds, however busy the platform is meanwhile.
    const counts = await withClient(url, async (c) => {
      await c.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const { rows } = await c.query<{ snapshot: string }>('SELECT pg_export_snapshot() AS snapshot');
      const counted = await tableCounts(c, url);
      await run('pg_dump', ['--format=custom', '--no-owner', '--no-privileges', `--snapshot=${rows[0].snapshot}`, `--file=${dump}`, `--dbname=${url}`]);
      await c.query('COMMIT');
      return counted;
    });
    const keys = join(work, 'audit-keys.json');
    await writeFile(keys, `${JSON.stringify(auditPublicKeys(auditKeysDir), null, 2)}\n`);
    const files = [];
    for (const name of ['gdx.dump', 'audit-keys.json']) {
      const path = join(work, name);
      files.push({ name, bytes: (await stat(path)).size, sha256: await sha256Of(path) });
    }
    const { stdout: version } = await run('pg_dump', ['--version']);
    const manifest: BackupManifest = {
      format: BACKUP_FORMAT,
      createdAt: new Date().toISOString(),
      database: decodeURIComponent(new URL(url).pathname.slice(1)),
      pgDump: version.trim(),
      files,
      counts,
    };
    const stamp = manifest.createdAt.replace(/[-:]/g, '').replace(/\..*$/, '');
    const folders: string[] = [];
    for (const dest of destinations) {
      const folder = join(dest, `gdx-${stamp}`);
      await mkdir(folder, { recursive: true, mode: 0o700 });
      for (const f of files) {
        await copyFile(join(work, f.name), join(folder, f.name));
        // What arrived is checked, not what was sent.
        if ((await sha256Of(join(folder, f.name))) !== f.sha256) throw new Error(`${f.name} did not arrive whole in ${folder}`);
      }
      await writeFile(join(folder, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
      folders.push(folder);
    }
    return { folders, manifest };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

export interface RestoreReport {
  counts: { table: string; expected: number; restored: number }[];
  countsEqual: boolean;
  audit: Awaited<ReturnType<typeof verifyDatabaseTrail>>;
}

/** Restores a backup folder into `url`, which must be empty of the platform's schemas; verifies it. */
export async function restore(folder: string, url: string): Promise<RestoreReport> {
  const manifest = JSON.parse(await readFile(join(folder, 'manifest.json'), 'utf8')) as BackupManifest;
  if ((manifest.format as string) !== BACKUP_FORMAT) throw new Error(`${folder} is not a backup of the format ${BACKUP_FORMAT}`);
  for (const f of manifest.files) {
    if ((await sha256Of(join(folder, f.name))) !== f.sha256) throw new Error(`${f.name} does not match its SHA-256 in the manifest: the backup is damaged`);
  }
  const schemas = SERVICE_DATABASES.map((s) => (s.dataSource(url).options as { schema: string }).schema);
  const { rowCount } = await withClient(url, (c) => c.query('SELECT 1 FROM pg_namespace WHERE nspname = ANY($1)', [schemas]));
  if (rowCount) throw new Error('the target database already holds the platform’s schemas; restore into an empty database');
  await run('pg_restore', ['--no-owner', '--no-privileges', '--exit-on-error', `--dbname=${url}`, join(folder, 'gdx.dump')]);
  const restored = await withClient(url, (c) => tableCounts(c, url));
  const counts = Object.entries(manifest.counts).map(([table, expected]) => ({ table, expected, restored: restored[table] ?? -1 }));
  const keys = JSON.parse(await readFile(join(folder, 'audit-keys.json'), 'utf8')) as PublicKeyEntry[];
  const audit = await verifyDatabaseTrail(url, keys);
  return { counts, countsEqual: counts.every((x) => x.expected === x.restored), audit };
}
