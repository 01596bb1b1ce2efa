import type { EventEnvelope } from '@gdx/events';
import { RESULTS, type AuditRecord, type AuditResult, type RecordDraft } from './audit-record.model';

/**
 * Results of events that carry none themselves: authentication events say by
 * their type whether the caller got in. Other state changes happened, so `ok`.
 */
const RESULT_BY_TYPE: Record<string, AuditResult> = {
  'auth.token_issued': 'ok',
  'auth.login_succeeded': 'ok',
  'auth.token_refused': 'denied',
  'auth.login_failed': 'failed',
  'auth.locked_out': 'denied',
};

const MAX_TEXT = 2048;

const SHARE_REQUEST_DOMAINS = new Set(['request', 'grant']);

function text(...candidates: unknown[]): string | null {
  for (const c of candidates) if (typeof c === 'string' && c.length) return c.length > MAX_TEXT ? c.slice(0, MAX_TEXT) : c;
  return null;
}

function integer(...candidates: unknown[]): number | null {
  for (const c of candidates) if (typeof c === 'number' && Number.isSafeInteger(c)) return c;
  return null;
}

function number(...candidates: unknown[]): number | null {
  for (const c of candidates) if (typeof c === 'number' && Number.isFinite(c)) return c;
  return null;
}

function strings(value: unknown): string[] | null {
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) return null;
  return value;
}

function result(type: string, value: unknown): AuditResult | null {
  if (typeof value === 'string' && (RESULTS as readonly string[]).includes(value)) return value as AuditResult;
  return RESULT_BY_TYPE[type] ?? 'ok';
}

/** Milliseconds, UTC: the precision a JavaScript Date (and so every verifier) keeps. */
const ISO_MILLIS_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

export function isoMillis(value: string | Date): string {
  // Already in the form toISOString gives (what createEvent writes): no need to parse.
  // A well-formed but impossible date is refused by PostgreSQL when the batch is written.
  if (typeof value === 'string' && ISO_MILLIS_UTC.test(value)) return value;
  const d = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(d.getTime())) throw new RangeError(`not a time: ${String(value)}`);
  return d.toISOString();
}

/**
 * The searchable fields of a record, taken from the envelope and, where the emitting
 * service put them, from its data. The full data is kept as well, so nothing the
 * event said is lost when a field has a name this mapping does not know.
 */
export function draftFromEvent(event: EventEnvelope, recordedAt: string): RecordDraft {
  // Read loosely, field by field: the audit consumer keeps events the catalogue does
  // not declare too (it does not validate), so no field can be trusted to have its
  // declared type; a field of another shape is left out of the columns, not refused.
  const d: Record<string, unknown> = event.data ?? {};
  const domain = event.type.split('.')[0];
  return {
    id: String(event.id).toLowerCase(),
    type: event.type,
    occurredAt: isoMillis(event.occurredAt),
    recordedAt,
    actor: {
      kind: String(event.actor.kind ?? 'anonymous'),
      unitId: text(event.actor.unitId),
      accountId: text(event.actor.accountId),
      clientId: text(event.actor.clientId),
    },
    subject: String(event.subject),
    traceparent: text(event.traceparent),
    resourceCode: text(d.resourceCode, domain === 'resource' ? d.code : undefined, domain === 'resource' ? event.subject : undefined),
    grantId: text(d.grantId, domain === 'grant' ? event.subject : undefined),
    route: text(d.route),
    mode: text(d.mode),
    items: strings(d.items),
    rowCount: integer(d.rowCount, d.rows),
    result: result(event.type, d.result),
    latencyMs: number(d.latencyMs),
    // In the request and grant domains `requestId` names the share request (the
    // subject of request events), not the HTTP request: those emitters may give the
    // HTTP one as `httpRequestId`.
    requestId: SHARE_REQUEST_DOMAINS.has(domain) ? text(d.httpRequestId) : text(d.requestId, d.httpRequestId),
    sourceAddress: text(d.sourceAddress, d.ip),
    ownerUnitId: text(d.providerUnitId, d.ownerUnitId),
    data: d,
  };
}

/** A row of audit_record (snake_case, as pg returns it) back to the record that was hashed. */
export interface AuditRecordRow {
  event_id: string;
  chain: number;
  position: string | number;
  type: string;
  occurred_at: Date;
  recorded_at: Date;
  actor_kind: string;
  actor_unit_id: string | null;
  actor_account_id: string | null;
  actor_client_id: string | null;
  subject: string;
  traceparent: string | null;
  resource_code: string | null;
  grant_id: string | null;
  route: string | null;
  mode: string | null;
  items: string[] | null;
  row_count: string | number | null;
  result: string | null;
  latency_ms: number | null;
  request_id: string | null;
  source_address: string | null;
  owner_unit_id: string | null;
  data: Record<string, unknown>;
  prev_hash: string;
  hash: string;
  original_sha256?: string | null;
}

export function recordFromRow(r: AuditRecordRow): AuditRecord {
  return {
    id: r.event_id,
    chain: r.chain,
    position: Number(r.position),
    type: r.type,
    occurredAt: isoMillis(r.occurred_at),
    recordedAt: isoMillis(r.recorded_at),
    actor: { kind: r.actor_kind, unitId: r.actor_unit_id, accountId: r.actor_account_id, clientId: r.actor_client_id },
    subject: r.subject,
    traceparent: r.traceparent,
    resourceCode: r.resource_code,
    grantId: r.grant_id,
    route: r.route,
    mode: r.mode,
    items: r.items,
    rowCount: r.row_count === null ? null : Number(r.row_count),
    result: r.result as AuditResult | null,
    latencyMs: r.latency_ms,
    requestId: r.request_id,
    sourceAddress: r.source_address,
    ownerUnitId: r.owner_unit_id,
    data: r.data,
    prevHash: r.prev_hash,
    hash: r.hash,
    ...(r.original_sha256 ? { originalSha256: r.original_sha256 } : {}),
  };
}
