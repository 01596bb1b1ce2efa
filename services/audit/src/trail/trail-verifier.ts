import { ChainService } from './chain.service';
import { checkpointHash, checkpointPayload } from './checkpoint.service';
import { GENESIS_HASH, type AuditRecord, type Checkpoint } from './audit-record.model';
import { verifySignature, type PublicKeyEntry } from './audit-key.store';
import { originalVerifies } from './escape';

export type ProblemCode =
  | 'content-changed'
  | 'original-mismatch'
  | 'broken-link'
  | 'missing-records'
  | 'duplicate-position'
  | 'chain-out-of-order'
  | 'checkpoint-bad-signature'
  | 'checkpoint-unknown-key'
  | 'checkpoint-changed'
  | 'checkpoint-missing'
  | 'checkpoint-broken-link'
  | 'checkpoint-bad-size'
  | 'checkpoint-went-back'
  | 'checkpoint-head-mismatch'
  | 'checkpoint-head-missing';

export interface Problem {
  code: ProblemCode;
  /** What is wrong, in words. */
  detail: string;
  chain?: number;
  position?: number;
  recordId?: string;
  checkpointSeq?: number;
  checkpointId?: string;
}

export interface ChainSummary {
  chain: number;
  records: number;
  headPosition: number;
  headHash: string | null;
}

export interface VerificationReport {
  ok: boolean;
  records: number;
  checkpoints: number;
  chains: ChainSummary[];
  /** The first broken record (lowest chain, then position), else the first broken checkpoint. */
  firstProblem: Problem | null;
  /** The first problems found on each chain and among the checkpoints (capped). */
  problems: Problem[];
}

const MAX_PROBLEMS = 100;

interface ChainState {
  chain: number;
  records: number;
  lastPosition: number;
  lastId: string | null;
  prevHash: string;
}

/**
 * Checks a trail fed to it in order: every checkpoint (oldest first), then every
 * record, chain by chain, each chain in position order. It keeps only the chain in
 * hand and the checkpoints' heads in memory, so an export of any size can be
 * streamed through it. The same code checks the live database (the API) and an
 * export file (the command-line verifier).
 */
export class TrailVerifier {
  private readonly chainRules = new ChainService();
  private readonly keys: Map<string, string>;
  private readonly problems: Problem[] = [];
  private readonly summaries: ChainSummary[] = [];
  private readonly done = new Set<number>();
  /** chain → position → what checkpoints say the record there hashes to. */
  private readonly expected = new Map<number, Map<number, { hash: string; seq: number; id: string }>>();
  private lastCheckpoint: Checkpoint | null = null;
  private checkpointCount = 0;
  private recordCount = 0;
  private current: ChainState | null = null;

  constructor(publicKeys: PublicKeyEntry[]) {
    this.keys = new Map(publicKeys.map((k) => [k.keyId, k.publicKey]));
  }

  checkpoint(c: Checkpoint): void {
    this.checkpointCount++;
    const at = { checkpointSeq: c.seq, checkpointId: c.id };
    const prev = this.lastCheckpoint;
    const payload = checkpointPayload(c);
    const key = this.keys.get(c.keyId);
    if (!key) this.add({ code: 'checkpoint-unknown-key', detail: `checkpoint ${c.seq} is signed with key ${c.keyId}, which is not among the trusted keys`, ...at });
    else if (!verifySignature(key, payload, c.signature))
      this.add({ code: 'checkpoint-bad-signature', detail: `checkpoint ${c.seq}: the signature does not match its content (size, heads, time or link changed)`, ...at });
    if (checkpointHash(payload) !== c.hash) this.add({ code: 'checkpoint-changed', detail: `checkpoint ${c.seq}: the stored hash does not match its content`, ...at });
    const expectedSeq = (prev?.seq ?? 0) + 1;
    if (c.seq !== expectedSeq)
      this.add({ code: 'checkpoint-missing', detail: `checkpoint ${expectedSeq}${c.seq > expectedSeq + 1 ? `..${c.seq - 1}` : ''} missing before checkpoint ${c.seq}`, ...at });
    else if (c.previousHash !== (prev?.hash ?? GENESIS_HASH)) this.add({ code: 'checkpoint-broken-link', detail: `checkpoint ${c.seq} does not link to the checkpoint before it`, ...at });
    if (c.heads.reduce((n, h) => n + h.position, 0) !== c.size) this.add({ code: 'checkpoint-bad-size', detail: `checkpoint ${c.seq}: size ${c.size} is not the sum of its chain heads`, ...at });
    for (const h of prev?.heads ?? []) {
      const now = c.heads.find((x) => x.chain === h.chain);
      if (!now || now.position < h.position)
        this.add({ code: 'checkpoint-went-back', detail: `checkpoint ${c.seq}: chain ${h.chain} is shorter than in checkpoint ${prev?.seq}`, chain: h.chain, ...at });
    }
    for (const h of c.heads) {
      let byPosition = this.expected.get(h.chain);
      if (!byPosition) this.expected.set(h.chain, (byPosition = new Map<number, { hash: string; seq: number; id: string }>()));
      if (!byPosition.has(h.position)) byPosition.set(h.position, { hash: h.hash, seq: c.seq, id: c.id });
      else if (byPosition.get(h.position)?.hash !== h.hash)
        this.add({ code: 'checkpoint-head-mismatch', detail: `checkpoints disagree on the record at position ${h.position} of chain ${h.chain}`, chain: h.chain, position: h.position, ...at });
    }
    this.lastCheckpoint = c;
  }

  record(r: AuditRecord): void {
    if (this.current?.chain !== r.chain) this.startChain(r.chain);
    const s = this.current as ChainState;
    this.recordCount++;
    s.records++;
    const at = { chain: r.chain, position: r.position, recordId: r.id };
    if (this.chainRules.hashOf(r) !== r.hash)
      this.add({ code: 'content-changed', detail: `chain ${r.chain} position ${r.position}: the record's content does not match its hash (changed after it was written)`, ...at });
    // An escaped record (escape.ts): undoing the escaping must give back the content its originalSha256 names.
    if (r.originalSha256 && !originalVerifies(r))
      this.add({ code: 'original-mismatch', detail: `chain ${r.chain} position ${r.position}: the escaped record does not unescape to the content its originalSha256 names`, ...at });
    if (r.position === s.lastPosition) {
      this.add({ code: 'duplicate-position', detail: `chain ${r.chain} position ${r.position} is held by two records (${s.lastId} and ${r.id}): one was inserted`, ...at });
      return; // the link goes on from the first of the two
    }
    if (r.position !== s.lastPosition + 1) {
      const from = s.lastPosition + 1;
      this.add({
        code: 'missing-records',
        detail: `chain ${r.chain}: position${r.position - 1 > from ? `s ${from}..${r.position - 1} are` : ` ${from} is`} missing (deleted)`,
        chain: r.chain,
        position: from,
        recordId: r.id,
      });
    } else if (r.prevHash !== s.prevHash) {
      this.add({ code: 'broken-link', detail: `chain ${r.chain} position ${r.position}: the record does not link to the record before it (one of them was replaced)`, ...at });
    }
    const promised = this.expected.get(r.chain)?.get(r.position);
    if (promised && promised.hash !== r.hash) {
      this.add({
        code: 'checkpoint-head-mismatch',
        detail: `checkpoint ${promised.seq} signed a different record at chain ${r.chain} position ${r.position} (the chain was rewritten)`,
        ...at,
        checkpointSeq: promised.seq,
        checkpointId: promised.id,
      });
    }
    s.lastPosition = r.position;
    s.lastId = r.id;
    s.prevHash = r.hash;
  }

  finish(): VerificationReport {
    this.endChain();
    for (const [chain, byPosition] of this.expected) {
      if (this.done.has(chain)) continue;
      const [position, promised] = [...byPosition].sort((a, b) => a[0] - b[0])[0];
      this.add({
        code: 'checkpoint-head-missing',
        detail: `checkpoint ${promised.seq} lists chain ${chain} with ${position} records, but the chain has none`,
        chain,
        position: 1,
        checkpointSeq: promised.seq,
        checkpointId: promised.id,
      });
    }
    // Problems that name a place on a chain come first, in chain order; then the checkpoints' own.
    const recordProblems = this.problems.filter((p) => p.position !== undefined);
    recordProblems.sort((a, b) => (a.chain ?? 0) - (b.chain ?? 0) || (a.position ?? 0) - (b.position ?? 0));
    const first = recordProblems[0] ?? this.problems[0] ?? null;
    return {
      ok: this.problems.length === 0,
      records: this.recordCount,
      checkpoints: this.checkpointCount,
      chains: this.summaries.sort((a, b) => a.chain - b.chain),
      firstProblem: first,
      problems: this.problems.slice(0, MAX_PROBLEMS),
    };
  }

  private startChain(chain: number): void {
    this.endChain();
    if (this.done.has(chain)) this.add({ code: 'chain-out-of-order', detail: `records of chain ${chain} come in two runs; feed each chain in one run`, chain });
    this.current = { chain, records: 0, lastPosition: 0, lastId: null, prevHash: GENESIS_HASH };
  }

  private endChain(): void {
    const s = this.current;
    if (!s) return;
    this.current = null;
    this.done.add(s.chain);
    this.summaries.push({ chain: s.chain, records: s.records, headPosition: s.lastPosition, headHash: s.lastId ? s.prevHash : null });
    for (const [position, promised] of this.expected.get(s.chain) ?? []) {
      if (position > s.lastPosition) {
        this.add({
          code: 'checkpoint-head-missing',
          detail: `checkpoint ${promised.seq} says chain ${s.chain} had ${position} records; it ends at ${s.lastPosition} (records were cut off its end)`,
          chain: s.chain,
          position: s.lastPosition + 1,
          checkpointSeq: promised.seq,
          checkpointId: promised.id,
        });
        break;
      }
    }
  }

  private add(p: Problem): void {
    if (this.problems.length < MAX_PROBLEMS * 10) this.problems.push(p);
  }
}
