/**
 * Verifies the audit trail and reports the first broken record or checkpoint.
 *
 *   node services/audit/dist/verify-cli.js                      the live database (DATABASE_URL, AUDIT_KEYS_DIR)
 *   node services/audit/dist/verify-cli.js --file export.ndjson an export from GET /api/v1/audit/export, offline
 *        [--public-key audit.pub.pem]                          trust only this key (else the keys in the file)
 *
 * Prints the report as JSON; exit code 0 when the trail is intact, 1 when it is
 * not, 2 when it could not be checked.
 */
import { createReadStream, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { createPublicKey } from 'node:crypto';
import { loadAuditConfig } from './config';
import { auditDataSource } from './data-source';
import { AuditKeyStore, keyIdOf, type PublicKeyEntry } from './trail/audit-key.store';
import { AuditRecordRepository } from './trail/audit-record.repository';
import { CheckpointRepository } from './trail/checkpoint.repository';
import { VerificationService } from './trail/verification.service';
import { EXPORT_FORMAT } from './trail/export.service';
import { TrailVerifier, type VerificationReport } from './trail/trail-verifier';
import type { AuditRecord, Checkpoint } from './trail/audit-record.model';

class UsageError extends Error {}

function args(argv: string[]): { file?: string; publicKey?: string } {
  const out: { file?: string; publicKey?: string } = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--file') out.file = argv[++i];
    else if (a === '--public-key') out.publicKey = argv[++i];
    else if (a === '--help' || a === '-h') throw new UsageError('usage: verify-cli [--file export.ndjson [--public-key key.pem]]');
    else throw new UsageError(`unknown argument ${a}`);
  }
  if (argv.includes('--file') && !out.file) throw new UsageError('--file needs a path');
  if (out.publicKey && !out.file) throw new UsageError('--public-key only applies to --file');
  return out;
}

/** Reads an export line by line: the verifier sees each record once and keeps only the chain in hand. */
export async function verifyExportFile(path: string, pinnedKeyPath?: string): Promise<VerificationReport> {
  let pinned: PublicKeyEntry[] | undefined;
  if (pinnedKeyPath) {
    const pem = readFileSync(pinnedKeyPath, 'utf8');
    pinned = [{ keyId: keyIdOf(createPublicKey(pem)), publicKey: pem }];
  }
  const fileKeys: PublicKeyEntry[] = [];
  let verifier: TrailVerifier | undefined;
  let header = false;
  let n = 0;
  const rl = createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity });
  for await (const line of rl) {
    n++;
    if (!line.trim()) continue;
    let entry: { kind?: string } & Record<string, unknown>;
    try {
      entry = JSON.parse(line) as typeof entry;
    } catch {
      throw new UsageError(`line ${n} is not JSON`);
    }
    const { kind, ...rest } = entry;
    if (!header) {
      if (kind !== 'header' || rest.format !== EXPORT_FORMAT) throw new UsageError(`${path} is not a GDX audit export`);
      header = true;
      continue;
    }
    if (kind === 'key') {
      // A key inside the file proves nothing about who made the file: its id must at least be its fingerprint.
      const pem = String(rest.publicKey);
      if (keyIdOf(createPublicKey(pem)) === rest.keyId) fileKeys.push({ keyId: String(rest.keyId), publicKey: pem });
      continue;
    }
    verifier ??= new TrailVerifier(pinned ?? fileKeys);
    if (kind === 'checkpoint') verifier.checkpoint(rest as unknown as Checkpoint);
    else if (kind === 'record') verifier.record(rest as unknown as AuditRecord);
    else throw new UsageError(`line ${n}: unknown entry kind ${String(kind)}`);
  }
  if (!header) throw new UsageError(`${path} is empty`);
  return (verifier ?? new TrailVerifier(pinned ?? fileKeys)).finish();
}

async function verifyDatabase(): Promise<VerificationReport> {
  const config = loadAuditConfig();
  const keys = new AuditKeyStore(config.auditKeysDir, false).load();
  const db = auditDataSource(config.databaseUrl, 2);
  await db.initialize();
  try {
    return await new VerificationService(new AuditRecordRepository(db), new CheckpointRepository(db), keys).verify();
  } finally {
    await db.destroy();
  }
}

async function main(): Promise<number> {
  const a = args(process.argv.slice(2));
  const report = a.file ? await verifyExportFile(a.file, a.publicKey) : await verifyDatabase();
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  if (!report.ok && report.firstProblem) process.stderr.write(`BROKEN: ${report.firstProblem.detail}\n`);
  return report.ok ? 0 : 1;
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(2);
    },
  );
}
