import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import type { PoolClient } from 'pg';
import type { EntityManager } from 'typeorm';
import { from as copyFrom } from 'pg-copy-streams';
import { normalizeText, type TextNormalization } from '@gdx/codes';
import type { ItemView } from '@gdx/contracts';
import { AppError, BadRequestError } from '@gdx/errors';
import type { DatasetRuntime } from '../datasets/dataset-registry';
import { BatchFormatError, readRecords, RecordParseError, type BatchFormat } from '../batches/record-readers';
import { conditionValue } from '../query/query-planner';

/** The pg connection under a TypeORM transaction: COPY needs the driver's own client. */
export const clientOf = (m: EntityManager): PoolClient => (m.queryRunner as unknown as { databaseConnection: PoolClient }).databaseConnection;

export interface InputLimits {
  maxRecords: number;
  maxBytes: number;
  maxRecordChars: number;
  maxFields: number;
}

/** What the ingest made of the job's parameters: how a submitted record becomes a row of job_input. */
export interface InputShape {
  kind: 'compare' | 'clean' | 'normalize';
  /** compare: the row key and the compared items, and the normalisation applied to their text. */
  key?: ItemView;
  compared?: ItemView[];
  normalize?: readonly string[];
}

interface InputRow {
  key: string | null;
  problem: string | null;
  problems: Record<string, string> | null;
  /** compare: the compared values in item order, canonical and normalised; null where missing or invalid. */
  vals?: (string | null)[];
  record: unknown;
}

const isText = (item: ItemView) => item.type === 'string' || item.type === 'code';

/** A PostgreSQL array literal of text (each element quoted, its quotes and backslashes escaped). */
function arrayLiteral(vs: (string | null)[]): string {
  return `{${vs.map((v) => (v === null ? 'NULL' : `"${v.replace(/["\\]/g, (c) => `\\${c}`)}"`)).join(',')}}`;
}

function copyText(v: string | null): string {
  if (v === null) return '\\N';
  return /[\\\t\n\r]/.test(v) ? v.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r') : v;
}

/**
 * A compare job's submitted records as they will be matched: the row key in its canonical form,
 * each compared value checked against its item's type and normalised as the caller asked
 * (the stored side is normalised the same way in SQL), and what is wrong with either, per item.
 * Everything that depends only on the job is decided once here, not per record (a million of them).
 */
export function compareRows(shape: Required<InputShape>): (record: unknown) => InputRow {
  const text: TextNormalization = { trim: shape.normalize.includes('trim'), halfWidth: shape.normalize.includes('half-width') };
  const normalizing = text.trim || text.halfWidth;
  const ignoreCase = shape.normalize.includes('ignore-case');
  const norm = (raw: string) => (normalizing ? normalizeText(raw, text) : raw);
  const preparers = [shape.key, ...shape.compared].map((item) => {
    const missing = `${item.key} is missing`;
    const lower = ignoreCase && isText(item);
    /** The value ready to compare, or why there is none (a string starting with the item's key). */
    return (raw: unknown): { value: string } | string => {
      if (raw === null || raw === undefined || raw === '') return missing;
      const parsed = conditionValue(item, typeof raw === 'string' ? norm(raw) : raw);
      if (!parsed.ok) return `${item.key} ${parsed.reason}`;
      if (parsed.value === null) return missing;
      const value = String(parsed.value);
      return { value: lower ? value.toLowerCase() : value };
    };
  });
  const [prepareKey, ...prepareValues] = preparers;
  const keyName = shape.key.key;
  const names = shape.compared.map((i) => i.key);
  return (record) => {
    if (record instanceof RecordParseError) return { key: null, problem: `The record ${record.reason}.`, problems: null, record: null };
    if (!record || typeof record !== 'object' || Array.isArray(record)) return { key: null, problem: 'The record is not an object of item values.', problems: null, record: null };
    const rec = record as Record<string, unknown>;
    const rawKey = rec[keyName];
    const key = prepareKey(rawKey);
    if (typeof key === 'string') {
      // Echoed as given, but never a NUL (PostgreSQL text cannot hold one; the reason says it was there).
      const shown = typeof rawKey === 'string' ? norm(rawKey).replace(/\0/g, '\uFFFD') : rawKey === null || rawKey === undefined ? null : JSON.stringify(rawKey);
      return { key: shown, problem: key, problems: null, record: null };
    }
    let problems: Record<string, string> | null = null;
    const vals = new Array<string | null>(names.length);
    for (let n = 0; n < names.length; n++) {
      const v = prepareValues[n](rec[names[n]]);
      if (typeof v === 'string') {
        (problems ??= {})[names[n]] = v;
        vals[n] = null;
      } else vals[n] = v.value;
    }
    return { key: key.value, problem: null, problems, vals, record: null };
  };
}

function hasNul(v: unknown): boolean {
  if (typeof v === 'string') return v.includes('\0');
  if (Array.isArray(v)) return v.some(hasNul);
  if (v && typeof v === 'object') return Object.entries(v).some(([k, x]) => k.includes('\0') || hasNul(x));
  return false;
}

/** A record of a clean or normalize job, kept as submitted; what is not a record is said so in its result line. */
function ownRow(record: unknown, fields: Map<string, true>, maxFields: number): InputRow {
  if (record instanceof RecordParseError) return { key: null, problem: `The record ${record.reason}.`, problems: null, record: null };
  if (!record || typeof record !== 'object' || Array.isArray(record)) return { key: null, problem: 'The record is not an object of field values.', problems: null, record: null };
  // PostgreSQL's text and jsonb hold no NUL: such a record is reported, not stored (nor a failed upload).
  if (hasNul(record)) return { key: null, problem: 'The record contains a NUL character (U+0000), which is not text.', problems: null, record: null };
  for (const f of Object.keys(record)) {
    if (f.startsWith('_')) return { key: null, problem: `The field name ${f} starts with an underscore, which result columns use.`, problems: null, record: null };
    if (!fields.has(f)) {
      if (fields.size >= maxFields) throw new BadRequestError('TOO_MANY_FIELDS', `The records have more than ${maxFields} distinct fields.`);
      fields.set(f, true);
    }
  }
  return { key: null, problem: null, problems: null, record };
}

/**
 * Streams a job's input into job_input with COPY (never held in memory whole): each record
 * parsed as batches are (NDJSON, CSV or a JSON array), prepared for its kind and numbered from 1.
 * A record that cannot be read becomes a numbered row saying why (its result line reports it),
 * so nothing submitted is dropped. Runs inside the caller's transaction; throws, and so writes
 * nothing, when the input is larger than allowed.
 */
export async function ingestInput(
  client: PoolClient,
  jobId: string,
  shape: InputShape,
  format: BatchFormat,
  body: AsyncIterable<Buffer | string>,
  limits: InputLimits,
): Promise<{ records: number; fields: string[] }> {
  const fields = new Map<string, true>();
  const compareRow = shape.kind === 'compare' ? compareRows(shape as Required<InputShape>) : null;
  const copy = client.query(copyFrom('COPY job_input (job_id, seq, key, problem, problems, vals, record) FROM STDIN'));
  let records = 0;
  let bytes = 0;
  const counted = async function* () {
    for await (const chunk of body) {
      bytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
      if (bytes > limits.maxBytes) throw new AppError(413, 'INPUT_TOO_LARGE', 'Payload too large', `The input exceeds ${limits.maxBytes} bytes.`);
      yield chunk;
    }
  };
  try {
    for await (const batch of readRecords(format, counted(), limits.maxRecordChars)) {
      let text = '';
      for (const record of batch) {
        records++;
        if (records > limits.maxRecords) throw new AppError(413, 'TOO_MANY_RECORDS', 'Payload too large', `A job takes at most ${limits.maxRecords} records.`);
        const row = compareRow ? compareRow(record) : ownRow(record, fields, limits.maxFields);
        text += `${jobId}\t${records}\t${copyText(row.key)}\t${copyText(row.problem)}\t${copyText(row.problems && JSON.stringify(row.problems))}\t${copyText(row.vals ? arrayLiteral(row.vals) : null)}\t${copyText(row.record === null ? null : JSON.stringify(row.record))}\n`;
      }
      if (text && !copy.write(text)) await once(copy, 'drain');
    }
    copy.end();
    await finished(copy);
  } catch (err) {
    copy.destroy();
    await finished(copy).catch(() => undefined);
    if (err instanceof BatchFormatError) throw new BadRequestError('MALFORMED_INPUT', `${err.message} Nothing was stored.`);
    throw err;
  }
  if (!records) throw new BadRequestError('EMPTY_INPUT', 'The input holds no records.');
  return { records, fields: [...fields.keys()] };
}

/** A small input given with the job: the same rows, as one statement. */
export async function insertInline(client: PoolClient, jobId: string, shape: InputShape, records: unknown[], maxFields: number): Promise<{ records: number; fields: string[] }> {
  const fields = new Map<string, true>();
  const compareRow = shape.kind === 'compare' ? compareRows(shape as Required<InputShape>) : null;
  const rows = records.map((r) => (compareRow ? compareRow(r) : ownRow(r, fields, maxFields)));
  await client.query(
    `INSERT INTO job_input (job_id, seq, key, problem, problems, vals, record)
     SELECT $1, n, k, p, ps::jsonb, v::text[], r::jsonb FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[]) WITH ORDINALITY AS x(k, p, ps, v, r, n)`,
    [
      jobId,
      rows.map((r) => r.key),
      rows.map((r) => r.problem),
      rows.map((r) => (r.problems ? JSON.stringify(r.problems) : null)),
      rows.map((r) => (r.vals ? arrayLiteral(r.vals) : null)),
      rows.map((r) => (r.record === null ? null : JSON.stringify(r.record))),
    ],
  );
  return { records: rows.length, fields: [...fields.keys()] };
}

export function inputShape(kind: 'compare' | 'clean' | 'normalize', ds: DatasetRuntime, parameters: Record<string, unknown>): InputShape {
  if (kind !== 'compare') return { kind };
  return {
    kind,
    key: ds.itemsByKey.get(ds.upsertKey)!,
    compared: (parameters.items as string[]).map((k) => ds.itemsByKey.get(k)!),
    normalize: (parameters.normalize as string[]) ?? [],
  };
}
