import { createHash } from 'node:crypto';
import { canonicalize } from './canonical-json';
import type { RecordDraft } from './audit-record.model';

/**
 * What PostgreSQL cannot hold, and how the trail stores it anyway (issue 11).
 *
 * PostgreSQL refuses NUL (U+0000) in text and in jsonb, and jsonb refuses the
 * `\uXXXX` escapes JSON.stringify writes for a lone UTF-16 surrogate (a text column
 * would silently turn one into U+FFFD, and the record's hash would no longer match).
 * A caller can put both in a query (a NUL in an item name, %00 in a path code, a
 * lone surrogate in a JSON body), so an event may carry them; the trail must still
 * keep it.
 *
 * The escaping ("json-escape/1"): a record that holds any such character has EVERY
 * string in it (each column, each item, each string and member name in `data`)
 * rewritten with:
 *
 *   `\` → `\\`,  U+0000 → `\u0000`,  a lone surrogate U+DXXX → `\udxxx`
 *
 * (the six characters, lowercase hex), everything else unchanged. That is injective,
 * so it is undone exactly by `unescapeText`: `\\` → `\`, `\uXXXX` → that code unit.
 * The record gets `originalSha256`: SHA-256 (hex) over ORIGINAL_TAG and the RFC 8785
 * canonical JSON of the record's content (every RecordDraft field) BEFORE escaping,
 * as JSON.stringify writes it (NUL and lone surrogates as \u escapes). The record's
 * chain hash covers the escaped content and originalSha256, and the verifier undoes
 * the escaping and checks originalSha256, so the original bytes stay verifiable.
 * Records without such characters are stored as they are, without the member, and
 * hash exactly as before.
 */
export const ESCAPE_SCHEME = 'json-escape/1';
const ORIGINAL_TAG = 'gdx-audit-original/1\n';

/** A NUL or a surrogate that is not part of a pair. */
// eslint-disable-next-line no-control-regex -- NUL is exactly what this looks for
const UNSAFE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
// eslint-disable-next-line no-control-regex -- NUL is exactly what this looks for
const TO_ESCAPE = /[\\\u0000]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
/** In JSON.stringify's output (or any JSON text): what may be a NUL or a lone surrogate. */
const MAYBE_UNSAFE_JSON = /\\u(?:0000|[dD][89abcdefABCDEF])/;

export function unsafeText(s: string): boolean {
  return UNSAFE.test(s);
}

export function escapeText(s: string): string {
  return s.replace(TO_ESCAPE, (ch) => (ch === '\\' ? '\\\\' : `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`));
}

export function unescapeText(s: string): string {
  return s.indexOf('\\') < 0 ? s : s.replace(/\\(\\|u[0-9a-f]{4})/g, (_, e: string) => (e === '\\' ? '\\' : String.fromCharCode(parseInt(e.slice(1), 16))));
}

/** A deep copy with every string (values and member names) mapped by `f`. */
export function mapStrings(value: unknown, f: (s: string) => string): unknown {
  if (typeof value === 'string') return f(value);
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map((v) => mapStrings(v, f));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[f(k)] = mapStrings(v, f);
  return out;
}

function unsafeDeep(value: unknown): boolean {
  if (typeof value === 'string') return UNSAFE.test(value);
  if (typeof value !== 'object' || value === null) return false;
  if (Array.isArray(value)) return value.some(unsafeDeep);
  return Object.entries(value).some(([k, v]) => UNSAFE.test(k) || unsafeDeep(v));
}

/** The record's content without its place on a chain: what originalSha256 is computed over. */
function content(r: RecordDraft): RecordDraft {
  return {
    id: r.id,
    type: r.type,
    occurredAt: r.occurredAt,
    recordedAt: r.recordedAt,
    actor: r.actor,
    subject: r.subject,
    traceparent: r.traceparent,
    resourceCode: r.resourceCode,
    grantId: r.grantId,
    route: r.route,
    mode: r.mode,
    items: r.items,
    rowCount: r.rowCount,
    result: r.result,
    latencyMs: r.latencyMs,
    requestId: r.requestId,
    sourceAddress: r.sourceAddress,
    ownerUnitId: r.ownerUnitId,
    data: r.data,
  };
}

export function originalHash(r: RecordDraft): string {
  return createHash('sha256')
    .update(ORIGINAL_TAG + canonicalize(content(r)))
    .digest('hex');
}

/**
 * Whether a draft needs escaping. `dataJson` is the data's canonical JSON, already
 * written for the hash: only when it shows a \u0000 or \ud8xx-\udfxx escape is the
 * data walked (the fast path costs one regular expression test).
 */
export function needsEscape(r: RecordDraft, dataJson: string): boolean {
  const a = r.actor;
  for (const s of [
    r.id,
    r.type,
    r.occurredAt,
    r.recordedAt,
    a.kind,
    a.unitId,
    a.accountId,
    a.clientId,
    r.subject,
    r.traceparent,
    r.resourceCode,
    r.grantId,
    r.route,
    r.mode,
    r.requestId,
    r.sourceAddress,
    r.ownerUnitId,
  ])
    if (s && UNSAFE.test(s)) return true;
  if (r.items?.some((s) => UNSAFE.test(s))) return true;
  return MAYBE_UNSAFE_JSON.test(dataJson) && unsafeDeep(r.data);
}

/** Rewrites the draft in place as documented above and sets its originalSha256. */
export function escapeDraft(r: RecordDraft): void {
  const originalSha256 = originalHash(r);
  const escaped = mapStrings(content(r), escapeText) as RecordDraft;
  Object.assign(r, escaped, { originalSha256 });
}

/** The record's content as the event had it (for an escaped record), else as stored. */
export function originalContent(r: RecordDraft): RecordDraft {
  return r.originalSha256 ? (mapStrings(content(r), unescapeText) as RecordDraft) : content(r);
}

/** Whether an escaped record's content, unescaped, is what its originalSha256 says. */
export function originalVerifies(r: RecordDraft): boolean {
  return !r.originalSha256 || originalHash(originalContent(r)) === r.originalSha256;
}
