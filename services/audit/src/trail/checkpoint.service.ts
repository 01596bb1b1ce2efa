import { createHash } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { uuidv7 } from '@gdx/database';
import { canonicalize } from './canonical-json';
import { GENESIS_HASH, type Checkpoint } from './audit-record.model';
import type { AuditRecordRepository } from './audit-record.repository';
import type { CheckpointRepository } from './checkpoint.repository';
import type { AuditKeyStore } from './audit-key.store';
import { setWriterRole } from './writer-role';

const CHECKPOINT_TAG = 'gdx-audit-checkpoint/1\n';
/** Serialises checkpoint makers across replicas (the checkpoint chain must not fork). */
const CHECKPOINT_LOCK: [number, number] = [0x6764_7861, -1];

/** The bytes that are signed: everything in the checkpoint but its hash and signature. */
export function checkpointPayload(c: Omit<Checkpoint, 'hash' | 'signature'>): string {
  return canonicalize({ v: 1, seq: c.seq, id: c.id, createdAt: c.createdAt, size: c.size, heads: c.heads, previousHash: c.previousHash, keyId: c.keyId });
}

export function checkpointHash(payload: string): string {
  return createHash('sha256').update(CHECKPOINT_TAG).update(payload).digest('hex');
}

/**
 * Signed checkpoints: the head (position and hash) of every chain at one moment,
 * the total size, the time and the previous checkpoint's hash, signed with the
 * audit key. They bind the parallel chains into one trail, and they catch what a
 * chain alone cannot: records cut off its end, or a chain rewritten from some
 * point on with fresh hashes.
 */
export class CheckpointService {
  constructor(
    private readonly db: DataSource,
    private readonly records: AuditRecordRepository,
    private readonly checkpoints: CheckpointRepository,
    private readonly keys: AuditKeyStore,
    private readonly options: { chains: number; writerRole: string },
  ) {}

  /** Makes a checkpoint; with `onlyIfGrown`, none when nothing was written since the last one. */
  create(onlyIfGrown = false): Promise<Checkpoint | null> {
    return this.db.transaction(async (m) => {
      await setWriterRole(m, this.options.writerRole);
      await m.query('SELECT pg_advisory_xact_lock($1, $2)', CHECKPOINT_LOCK);
      const last = await this.checkpoints.last(m);
      // Chains named by the previous checkpoint stay listed even if the configured count went down.
      const chains = new Set<number>(Array.from({ length: this.options.chains }, (_, i) => i));
      for (const h of last?.heads ?? []) chains.add(h.chain);
      const heads = await this.records.heads(
        m,
        [...chains].sort((a, b) => a - b),
      );
      const size = heads.reduce((n, h) => n + h.position, 0);
      if (onlyIfGrown && last && last.size === size) return null;
      const draft = { seq: (last?.seq ?? 0) + 1, id: uuidv7(), createdAt: new Date().toISOString(), size, heads, previousHash: last?.hash ?? GENESIS_HASH, keyId: this.keys.currentKeyId() };
      const payload = checkpointPayload(draft);
      const checkpoint: Checkpoint = { ...draft, hash: checkpointHash(payload), signature: this.keys.sign(payload).signature };
      await this.checkpoints.insert(m, checkpoint);
      return checkpoint;
    });
  }

  list(limit: number, beforeSeq?: number): Promise<Checkpoint[]> {
    return this.checkpoints.list(limit, beforeSeq);
  }
}
