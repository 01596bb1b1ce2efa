import { createHash, hash as oneShotHash } from 'node:crypto';
import { canonicalize, sortedCopy } from './canonical-json';
import { escapeDraft, needsEscape } from './escape';
import { GENESIS_HASH, type AuditRecord, type ChainHead, type RecordDraft } from './audit-record.model';

/** Domain separation: a record hash can never be mistaken for a checkpoint hash. */
const RECORD_TAG = 'gdx-audit-record/1\n';

function sha256(text: string): string {
  // crypto.hash (Node ≥ 20.12) skips the Hash object: measurably cheaper per record.
  return typeof oneShotHash === 'function' ? oneShotHash('sha256', text, 'hex') : createHash('sha256').update(text).digest('hex');
}

export interface LinkedBatch {
  records: AuditRecord[];
  /** Each record's data as canonical JSON, computed once for its hash and reused by the insert. */
  dataJson: string[];
}

/**
 * The rules of the hash chains. Each record's hash covers its canonical content,
 * its place (chain, position) and the previous record's hash, so changing, removing
 * or slipping in a record breaks the chain from that place on. Ingestion is spread
 * over several chains so that writers never queue behind one another; signed
 * checkpoints bind the chains together.
 */
export class ChainService {
  /** SHA-256 over RECORD_TAG and the RFC 8785 canonical JSON of every field but `hash`. */
  hashOf(r: Omit<AuditRecord, 'hash'> & { hash?: string }): string {
    return sha256(RECORD_TAG + canonicalRecord(r, canonicalData(r.data)));
  }

  /** Puts drafts on a chain after its current head, in the order given (the drafts become the records: no copies on the hot path). */
  link(drafts: RecordDraft[], head: ChainHead): LinkedBatch {
    let prevHash = head.position ? head.hash : GENESIS_HASH;
    let position = head.position;
    const records = new Array<AuditRecord>(drafts.length);
    const dataJson = new Array<string>(drafts.length);
    for (let i = 0; i < drafts.length; i++) {
      const record = drafts[i] as AuditRecord;
      record.chain = head.chain;
      record.position = ++position;
      record.prevHash = prevHash;
      dataJson[i] = canonicalData(record.data);
      // The rare record PostgreSQL could not hold as it is: escaped, its original hashed (escape.ts).
      if (needsEscape(record, dataJson[i])) {
        escapeDraft(record);
        dataJson[i] = canonicalData(record.data);
      }
      record.hash = sha256(RECORD_TAG + canonicalRecord(record, dataJson[i]));
      prevHash = record.hash;
      records[i] = record;
    }
    return { records, dataJson };
  }
}

function canonicalData(data: Record<string, unknown>): string {
  try {
    return JSON.stringify(sortedCopy(data));
  } catch {
    // Member names like "10" defeat the copy trick (sortedCopy says so by throwing).
    return canonicalize(data);
  }
}

const j = JSON.stringify;

/**
 * The canonical JSON of a record, written out by hand because this is the hot path
 * of ingestion: the members are listed in RFC 8785 order (a test holds this to the
 * generic canonicaliser), values are written by JSON.stringify, data comes in
 * already canonical.
 */
function canonicalRecord(r: Omit<AuditRecord, 'hash'>, data: string): string {
  const a = r.actor;
  return (
    `{"actor":{"accountId":${j(a.accountId)},"clientId":${j(a.clientId)},"kind":${j(a.kind)},"unitId":${j(a.unitId)}}` +
    `,"chain":${j(r.chain)},"data":${data},"grantId":${j(r.grantId)},"id":${j(r.id)},"items":${r.items ? canonicalize(r.items) : 'null'}` +
    `,"latencyMs":${j(r.latencyMs)},"mode":${j(r.mode)},"occurredAt":${j(r.occurredAt)}` +
    // Present only on escaped records, so every other record hashes as it always did.
    (r.originalSha256 === undefined || r.originalSha256 === null ? '' : `,"originalSha256":${j(r.originalSha256)}`) +
    `,"ownerUnitId":${j(r.ownerUnitId)}` +
    `,"position":${j(r.position)},"prevHash":${j(r.prevHash)},"recordedAt":${j(r.recordedAt)},"requestId":${j(r.requestId)}` +
    `,"resourceCode":${j(r.resourceCode)},"result":${j(r.result)},"route":${j(r.route)},"rowCount":${j(r.rowCount)}` +
    `,"sourceAddress":${j(r.sourceAddress)},"subject":${j(r.subject)},"traceparent":${j(r.traceparent)},"type":${j(r.type)}}`
  );
}
