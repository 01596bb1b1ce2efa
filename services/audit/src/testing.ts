/**
 * @gdx/audit/testing: the trail's building blocks that tests and benches exercise
 * directly, for this repository's tests and benches only. Not an API: names here may
 * change with the service's internals.
 */
export { canonicalize } from './trail/canonical-json';
export { ChainService } from './trail/chain.service';
export { draftFromEvent } from './trail/audit-record.mapper';
export type { AuditRecord } from './trail/audit-record.model';
export { PartitionService } from './trail/partition.service';
export { AuditRecordRepository } from './trail/audit-record.repository';
export { CheckpointRepository } from './trail/checkpoint.repository';
export { AuditKeyStore } from './trail/audit-key.store';
export { VerificationService } from './trail/verification.service';
export { TrailVerifier } from './trail/trail-verifier';
export { escapeText, unescapeText } from './trail/escape';
