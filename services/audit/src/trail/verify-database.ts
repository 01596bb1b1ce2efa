import { auditDataSource } from '../data-source';
import { AuditKeyStore, type PublicKeyEntry } from './audit-key.store';
import { AuditRecordRepository } from './audit-record.repository';
import { CheckpointRepository } from './checkpoint.repository';
import { VerificationService } from './verification.service';

/** The public checkpoint keys of an audit key directory (what a backup carries to verify its restore). */
export function auditPublicKeys(dir: string): PublicKeyEntry[] {
  return new AuditKeyStore(dir, false).load().publicKeys();
}

/** Verifies the audit trail of the database at `url` (chains and checkpoints) with the given public keys. */
export async function verifyDatabaseTrail(url: string, publicKeys: PublicKeyEntry[]): ReturnType<VerificationService['verify']> {
  const ds = auditDataSource(url, 2);
  await ds.initialize();
  try {
    return await new VerificationService(new AuditRecordRepository(ds), new CheckpointRepository(ds), { publicKeys: () => publicKeys }).verify();
  } finally {
    await ds.destroy();
  }
}
