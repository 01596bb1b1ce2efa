import { EVENT_DOMAINS } from '@gdx/contracts';

/** The results an audit record may carry (§7: allowed or denied calls, state changes that went through or failed). */
export const RESULTS = ['allowed', 'denied', 'ok', 'failed'] as const;
export type AuditResult = (typeof RESULTS)[number];

/**
 * Every stream of the platform whose events the trail keeps: every domain the event
 * catalogue declares, so a new domain is audited from the day it is declared.
 */
export const AUDITED_DOMAINS: readonly string[] = EVENT_DOMAINS;

/** The chain link before the first record of every chain. */
export const GENESIS_HASH = '0'.repeat(64);

export interface AuditActor {
  kind: string;
  unitId: string | null;
  accountId: string | null;
  clientId: string | null;
}

/** What an event contributes to its record, before it is put on a chain. */
export interface RecordDraft {
  /** The event id: one record per event. */
  id: string;
  type: string;
  /** ISO 8601 with milliseconds, UTC: what PostgreSQL gives back, so hashes can be recomputed. */
  occurredAt: string;
  recordedAt: string;
  actor: AuditActor;
  subject: string;
  traceparent: string | null;
  resourceCode: string | null;
  grantId: string | null;
  route: string | null;
  mode: string | null;
  items: string[] | null;
  rowCount: number | null;
  result: AuditResult | null;
  latencyMs: number | null;
  requestId: string | null;
  sourceAddress: string | null;
  /** The unit whose resource the event is about (the provider): it may see the record too. */
  ownerUnitId: string | null;
  data: Record<string, unknown>;
  /**
   * Only on a record that held what PostgreSQL cannot store (NUL, a lone surrogate):
   * its strings are escaped and this is the SHA-256 of the original content (see escape.ts).
   */
  originalSha256?: string;
}

/** A record as stored, exported and verified. */
export interface AuditRecord extends RecordDraft {
  chain: number;
  /** 1-based place on its chain. */
  position: number;
  prevHash: string;
  /** SHA-256 (hex) over the canonical JSON of every other field, prevHash included. */
  hash: string;
}

export interface ChainHead {
  chain: number;
  position: number;
  hash: string;
}

/** A signed statement of how long each chain was at a moment. */
export interface Checkpoint {
  seq: number;
  id: string;
  createdAt: string;
  /** Records covered: the sum of the chain head positions. */
  size: number;
  heads: ChainHead[];
  /** Hash of the previous checkpoint (GENESIS_HASH for the first): checkpoints form a chain too. */
  previousHash: string;
  keyId: string;
  /** SHA-256 (hex) of the signed payload. */
  hash: string;
  /** Ed25519 signature of the payload, base64url. */
  signature: string;
}
