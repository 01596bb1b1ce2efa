import { cleanCreditCode, cleanDate, cleanResidentId, cleanText, normalizeRegion, normalizeSex, type CleanChange, type Cleaned } from '@gdx/codes';
import type { DatasetRuntime } from '../datasets/dataset-registry';
import { impliedRule, type CleanRule, type CodeTable } from './job-plan';

/**
 * The record-by-record halves of the job kinds that work on the caller's own data (clean,
 * normalize): each record's result line with every changed, mapped or rejected value and why.
 * Values of other types than text pass unchanged; nothing is dropped.
 */

export interface InputRecord {
  seq: number;
  problem: string | null;
  record: Record<string, unknown> | null;
}

export interface RecordResult {
  line: string;
  outcome: string;
}

const CLEANERS: Record<Exclude<CleanRule, 'none'>, (v: string) => Cleaned> = {
  text: cleanText,
  date: cleanDate,
  'id-number': cleanResidentId,
  'credit-code': cleanCreditCode,
  region: (v) => {
    // Cleaning checks a region code (after trimming); mapping names to codes is the normalize job's.
    const t = cleanText(v);
    if (!t.ok) return t;
    const n = normalizeRegion(t.value);
    return n.ok && n.value === t.value ? t : n.ok ? { ok: false, reason: 'UNKNOWN_REGION', detail: 'is a region name, not a GB/T 2260 code (a normalize job maps names to codes)' } : n;
  },
};

const MAPPERS: Record<CodeTable, (v: string) => Cleaned> = { 'GB/T 2260': normalizeRegion, 'GB/T 2261.1': normalizeSex };

function malformed(r: InputRecord, status: string): RecordResult {
  return { line: JSON.stringify({ _record: r.seq, _status: status, _rejections: { _record: { reason: 'MALFORMED_RECORD', detail: r.problem } } }), outcome: status };
}

export function cleanRecord(ds: DatasetRuntime, rules: Record<string, CleanRule>, r: InputRecord): RecordResult {
  if (!r.record) return malformed(r, 'rejected');
  const out: Record<string, unknown> = { _record: r.seq, _status: 'unchanged' };
  const changes: Record<string, CleanChange[]> = {};
  const rejections: Record<string, { reason: string; detail: string }> = {};
  for (const [field, value] of Object.entries(r.record)) {
    out[field] = value;
    const rule = rules[field] ?? impliedRule(ds.itemsByKey.get(field));
    if (rule === 'none' || typeof value !== 'string' || value === '') continue;
    const cleaned = CLEANERS[rule](value);
    if (!cleaned.ok) rejections[field] = { reason: cleaned.reason, detail: cleaned.detail };
    else if (cleaned.changes.length) {
      out[field] = cleaned.value;
      changes[field] = cleaned.changes;
    }
  }
  const status = Object.keys(rejections).length ? 'rejected' : Object.keys(changes).length ? 'changed' : 'unchanged';
  out._status = status;
  if (Object.keys(changes).length) out._changes = changes;
  if (status === 'rejected') out._rejections = rejections;
  return { line: JSON.stringify(out), outcome: status };
}

export function normalizeRecord(fields: Record<string, CodeTable>, r: InputRecord): RecordResult {
  if (!r.record) return malformed(r, 'unmapped');
  const out: Record<string, unknown> = { _record: r.seq, _status: 'unchanged', ...r.record };
  const mapped: Record<string, { from: string; to: string }> = {};
  const unmapped: Record<string, { reason: string; detail: string }> = {};
  for (const [field, table] of Object.entries(fields)) {
    const value = r.record[field];
    if (value === undefined || value === null || value === '') continue;
    const given = typeof value === 'number' ? String(value) : value;
    if (typeof given !== 'string') {
      unmapped[field] = { reason: 'NOT_TEXT', detail: 'is not text' };
      continue;
    }
    const n = MAPPERS[table](given);
    if (!n.ok) unmapped[field] = { reason: n.reason, detail: n.detail };
    else if (n.value !== given) {
      out[field] = n.value;
      mapped[field] = { from: given, to: n.value };
    }
  }
  const status = Object.keys(unmapped).length ? 'unmapped' : Object.keys(mapped).length ? 'mapped' : 'unchanged';
  out._status = status;
  if (Object.keys(mapped).length) out._mapped = mapped;
  if (status === 'unmapped') out._unmapped = unmapped;
  return { line: JSON.stringify(out), outcome: status };
}
