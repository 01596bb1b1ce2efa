import type { AuditRecordRepository } from './audit-record.repository';
import type { CheckpointRepository } from './checkpoint.repository';
import type { AuditKeyStore } from './audit-key.store';
import { TrailVerifier, type VerificationReport } from './trail-verifier';

/** Verifies the live trail: every checkpoint, then every chain from its first record. */
export class VerificationService {
  constructor(
    private readonly records: AuditRecordRepository,
    private readonly checkpoints: CheckpointRepository,
    /** Only the public keys are needed: a restored backup is verified with the ones it carries. */
    private readonly keys: Pick<AuditKeyStore, 'publicKeys'>,
  ) {}

  async verify(): Promise<VerificationReport & { verifiedAt: string }> {
    const verifier = new TrailVerifier(this.keys.publicKeys());
    for await (const c of this.checkpoints.all()) verifier.checkpoint(c);
    for (const chain of await this.records.chains()) {
      for await (const r of this.records.chainRecords(chain)) verifier.record(r);
    }
    return { ...verifier.finish(), verifiedAt: new Date().toISOString() };
  }
}
