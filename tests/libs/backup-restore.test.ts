import request from 'supertest';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadAuditConfig } from '@gdx/audit';
import { backup, restore } from '@gdx/scripts';
import { startPlatform, type TestPlatform } from '../helpers/platform';
import { addUser, type TestUser } from '../helpers/gateway';
import { adminQuery, databaseUrl } from '../helpers/db';
import { eventually } from '../helpers/wait';

/**
 * Issue 16 item 1: a backup in two places restores into a fresh database whose audit trail
 * verifies (chains and checkpoints) and whose tables hold what the backup's manifest counted;
 * a damaged copy and a non-empty target are refused.
 */
let platform: TestPlatform;
let auditor: TestUser;
const restoredName = `gdx_restore_${randomBytes(4).toString('hex')}`;

beforeAll(async () => {
  platform = await startPlatform(['audit']);
  auditor = await addUser(platform.gateway, 'OFFICE', ['office_auditor']);
});
afterAll(async () => {
  await platform?.close();
  await adminQuery(`DROP DATABASE IF EXISTS ${restoredName} WITH (FORCE)`);
});

test('a backup written to two places restores into a fresh database with every row and an intact, verifiable audit trail', async () => {
  const bearer = { authorization: `Bearer ${auditor.token}` };
  // Calls on the record, and a signed checkpoint over them.
  for (let i = 0; i < 5; i++) await request(platform.gatewayUrl).get('/api/v1/audit/records').set(bearer).expect(200);
  const records = await eventually(async () => {
    const r = await request(platform.gatewayUrl).get('/api/v1/audit/records').set(bearer).query({ limit: 100 });
    return r.body.items.length >= 5 ? (r.body.items as unknown[]) : undefined;
  });
  await request(platform.gatewayUrl).post('/api/v1/audit/checkpoints').set(bearer).expect(201);

  const [sameCity, offSite] = [mkdtempSync(join(tmpdir(), 'gdx-backup-a-')), mkdtempSync(join(tmpdir(), 'gdx-backup-b-'))];
  const { folders, manifest } = await backup(platform.db.url, [sameCity, offSite], loadAuditConfig({}, {}).auditKeysDir);
  expect(folders).toHaveLength(2);
  expect(manifest.files.map((f) => f.name)).toEqual(['gdx.dump', 'audit-keys.json']);
  expect(manifest.counts['audit.audit_record']).toBeGreaterThanOrEqual(records.length);
  expect(manifest.counts['audit.audit_checkpoint']).toBeGreaterThanOrEqual(1);
  // Both places hold the same bytes.
  expect(readFileSync(join(folders[0], 'manifest.json'), 'utf8')).toBe(readFileSync(join(folders[1], 'manifest.json'), 'utf8'));

  await adminQuery(`CREATE DATABASE ${restoredName}`);
  const report = await restore(folders[1], databaseUrl(restoredName));
  expect(report.countsEqual).toBe(true);
  expect(report.counts.find((c) => c.table === 'audit.audit_record')).toEqual({
    table: 'audit.audit_record',
    expected: manifest.counts['audit.audit_record'],
    restored: manifest.counts['audit.audit_record'],
  });
  expect(report.audit).toMatchObject({ ok: true, problems: [] });

  // A second restore into the same (no longer empty) database is refused; so is a damaged copy.
  await expect(restore(folders[0], databaseUrl(restoredName))).rejects.toThrow(/already holds/);
  const dump = join(folders[0], 'gdx.dump');
  const bytes = readFileSync(dump);
  bytes[bytes.length >> 1] ^= 0xff;
  writeFileSync(dump, bytes);
  await expect(restore(folders[0], databaseUrl(`${restoredName}_x`))).rejects.toThrow(/damaged/);
});
