import type { DataSource, EntityManager } from 'typeorm';
import { isoMillis } from './audit-record.mapper';
import type { Checkpoint } from './audit-record.model';

interface CheckpointRow {
  seq: string;
  id: string;
  created_at: Date;
  size: string;
  heads: Checkpoint['heads'];
  previous_hash: string;
  key_id: string;
  hash: string;
  signature: string;
}

function fromRow(r: CheckpointRow): Checkpoint {
  return {
    seq: Number(r.seq),
    id: r.id,
    createdAt: isoMillis(r.created_at),
    size: Number(r.size),
    heads: r.heads,
    previousHash: r.previous_hash,
    keyId: r.key_id,
    hash: r.hash,
    signature: r.signature,
  };
}

const COLUMNS = 'seq, id, created_at, size, heads, previous_hash, key_id, hash, signature';

/** SQL over audit_checkpoint (append-only, like the records). */
export class CheckpointRepository {
  constructor(private readonly db: DataSource) {}

  async last(m: EntityManager | DataSource = this.db): Promise<Checkpoint | null> {
    const [row]: CheckpointRow[] = await m.query(`SELECT ${COLUMNS} FROM audit_checkpoint ORDER BY seq DESC LIMIT 1`);
    return row ? fromRow(row) : null;
  }

  async insert(m: EntityManager, c: Checkpoint): Promise<void> {
    await m.query(`INSERT INTO audit_checkpoint (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, [
      c.seq,
      c.id,
      c.createdAt,
      c.size,
      JSON.stringify(c.heads),
      c.previousHash,
      c.keyId,
      c.hash,
      c.signature,
    ]);
  }

  /** Newest first. */
  async list(limit: number, beforeSeq?: number): Promise<Checkpoint[]> {
    const rows: CheckpointRow[] = beforeSeq
      ? await this.db.query(`SELECT ${COLUMNS} FROM audit_checkpoint WHERE seq < $1 ORDER BY seq DESC LIMIT $2`, [beforeSeq, limit])
      : await this.db.query(`SELECT ${COLUMNS} FROM audit_checkpoint ORDER BY seq DESC LIMIT $1`, [limit]);
    return rows.map(fromRow);
  }

  /** Oldest first, every one. */
  async *all(pageSize = 1000): AsyncGenerator<Checkpoint> {
    let after = -1;
    for (;;) {
      const rows: CheckpointRow[] = await this.db.query(`SELECT ${COLUMNS} FROM audit_checkpoint WHERE seq > $1 ORDER BY seq LIMIT $2`, [after, pageSize]);
      for (const r of rows) yield fromRow(r);
      if (rows.length < pageSize) return;
      after = Number(rows[rows.length - 1].seq);
    }
  }
}
