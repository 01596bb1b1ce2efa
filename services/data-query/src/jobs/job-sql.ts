import { FULL_WIDTH, HALF_WIDTH } from '@gdx/codes';
import type { ItemView, RowFilter } from '@gdx/contracts';
import type { DatasetRuntime } from '../datasets/dataset-registry';
import { isCreditCodeItem, isIdentityItem, paramTypeOf, q, SYS } from '../datasets/resource-model';
import { conditionValue, type QueryPlanner } from '../query/query-planner';
import type { ClearTerms } from '../query/masking';
import { recordSql } from '../data-call/sql-presenter';
import { BadRequestError } from '@gdx/errors';
import type { JobCondition } from './job.schemas';

/**
 * The set-based halves of the job kinds: each chunk is one statement that reads its records,
 * writes their result lines into job_result (in blocks) and answers only the counts, so a compare of a
 * million records is a hundred index joins, never a million round trips, and no stored value
 * ever passes through this process. Item keys passed the identifier pattern; everything else
 * is a bound parameter.
 */

/** Result lines per row of job_result (a chunk's lines, grouped from its first). */
export const RESULT_BLOCK = 1000;

const sqlText = (s: string) => `'${s.replace(/'/g, "''")}'`;
const jsonKey = (key: string) => `'${JSON.stringify(key)}:'`;

/** The stored text as the submitted text was normalised (job-input.ts compareRow): translate, trim, lower. */
function normalizedStored(item: ItemView, col: string, normalize: readonly string[]): string {
  let e = `${col}::text`;
  if (normalize.includes('half-width')) e = `translate(${e}, ${sqlText(FULL_WIDTH)}, ${sqlText(HALF_WIDTH)})`;
  if (normalize.includes('trim')) e = `btrim(${e}, E' \\t\\r\\n')`;
  if (normalize.includes('ignore-case') && (item.type === 'string' || item.type === 'code')) e = `lower(${e})`;
  return e;
}

/** Whether the stored value equals the submitted one, compared as the item's type. */
function equalSql(item: ItemView, col: string, submitted: string, normalize: readonly string[]): string {
  switch (item.type) {
    case 'string':
    case 'code':
      return `${normalizedStored(item, col, normalize)} = ${submitted}`;
    case 'date':
      return `${col} = (${submitted})::date`;
    case 'datetime':
      return `${col} = (${submitted})::timestamptz`;
    case 'integer':
    case 'decimal':
      return `${col} = (${submitted})::numeric`;
    case 'boolean':
      return `${col} = (${submitted})::boolean`;
  }
}

export interface CompareTerms {
  ds: DatasetRuntime;
  grant: { rowFilter: RowFilter | null };
  items: readonly string[];
  normalize: readonly string[];
}

/**
 * A compare chunk ($1 job, $2 after seq, $3 up to seq): each record joined on the row key to the
 * grant's slice (a row outside the row filter is not found, as for a query), each compared item's
 * verdict, the record's result line, and the records counted by result. Stored values stay in
 * PostgreSQL: only the verdicts leave it.
 */
export function compareChunkSql({ ds, grant, items, normalize }: CompareTerms, planner: QueryPlanner): { text: string; values: unknown[] } {
  const values: unknown[] = [];
  const p = (v: unknown, type: string) => {
    values.push(v);
    return `$${values.length + 3}::${type}`;
  };
  const keyItem = ds.itemsByKey.get(ds.upsertKey)!;
  const col = (k: string) => `r.${q(ds.columnByKey.get(k)!)}`;
  const filter = planner.rowFilterSql(ds, grant.rowFilter, p, 'r');
  // A text key joins as it is, by the key's unique index (an invalid key never equals a stored one, all of which passed the
  // same check); a key of another type is cast, and only when it is valid (an invalid one would not cast).
  const keyJoin =
    keyItem.type === 'string' || keyItem.type === 'code'
      ? `${col(ds.upsertKey)} = i.key AND i.problem IS NULL`
      : `${col(ds.upsertKey)} = (CASE WHEN i.problem IS NULL THEN i.key END)::${paramTypeOf(keyItem)}`;
  const on = [keyJoin, `r.${q(SYS.deletedAt)} IS NULL`, ...filter];
  // The submitted value of item n is vals[n + 1] (null: missing or invalid, the reason in `problems`).
  const verdict = (k: string, n: number) =>
    `CASE WHEN i.problem IS NOT NULL THEN 'invalid' WHEN r.${q(SYS.rowId)} IS NULL THEN 'not_found' WHEN i.vals[${n + 1}] IS NULL THEN 'invalid' WHEN ${equalSql(
      ds.itemsByKey.get(k)!,
      col(k),
      `i.vals[${n + 1}]`,
      normalize,
    )} THEN 'match' ELSE 'mismatch' END AS d${n}`;
  const ds_ = items.map((_, n) => `d${n}`);
  const result = `CASE WHEN problem IS NOT NULL THEN 'invalid' WHEN d0 = 'not_found' THEN 'not_found' WHEN ${ds_.map((d) => `${d} = 'mismatch'`).join(' OR ')} THEN 'mismatch' WHEN ${ds_
    .map((d) => `${d} = 'invalid'`)
    .join(' OR ')} THEN 'invalid' ELSE 'match' END`;
  // The item problems are read only where there are some (a subquery per record would cost more than the rest of the line).
  // A valid identity number or credit code is digits and capitals: written as it is, without JSON escaping.
  const safeKey = isIdentityItem(keyItem) || isCreditCodeItem(keyItem);
  const reason = `CASE WHEN problem IS NOT NULL THEN problem WHEN problems IS NOT NULL THEN (SELECT string_agg(value, '; ' ORDER BY key) FROM jsonb_each_text(problems)) END`;
  const line = [
    `'{"_record":' || seq`,
    safeKey ? `',"_key":' || CASE WHEN problem IS NULL THEN '"' || key || '"' ELSE COALESCE(to_json(key)::text, 'null') END` : `',"_key":' || COALESCE(to_json(key)::text, 'null')`,
    `',"_result":"' || result || '"'`,
    ...items.map((k, n) => `',' || ${jsonKey(k)} || '"' || d${n} || '"'`),
    `',"_reason":' || COALESCE(to_json(reason)::text, 'null') || '}'`,
  ].join(' || ');
  const text = `WITH verdicts AS (
      SELECT i.seq, i.key, i.problem, i.problems, ${items.map(verdict).join(', ')}
      FROM job_input i LEFT JOIN ${ds.table} r ON ${on.join(' AND ')}
      WHERE i.job_id = $1 AND i.seq > $2 AND i.seq <= $3
    ), results AS (
      SELECT seq, key, problem, ${result} AS result, ${reason} AS reason, ${ds_.join(', ')} FROM verdicts
    ), written AS (
      INSERT INTO job_result (job_id, seq, lines, block)
      SELECT $1, min(seq), count(*), string_agg(line, E'\\n' ORDER BY seq) FROM (SELECT seq, ${line} AS line FROM results) l GROUP BY (seq - $2 - 1) / ${RESULT_BLOCK}
    )
    SELECT result AS outcome, count(*)::int AS n FROM results GROUP BY result`;
  return { text, values };
}

/** A job condition as SQL on the row's column, its values parsed as the item's type and bound. */
function conditionSql(ds: DatasetRuntime, c: JobCondition, i: number, p: (v: unknown, type: string) => string): string {
  const item = ds.itemsByKey.get(c.item)!;
  const col = q(ds.columnByKey.get(c.item)!);
  const type = paramTypeOf(item);
  const field = `body.parameters.conditions[${i}].value`;
  const one = (raw: unknown) => {
    const parsed = conditionValue(item, raw);
    if (!parsed.ok || parsed.value === null) throw new BadRequestError('INVALID_CONDITION', `The value of ${c.item} ${parsed.ok ? 'is empty' : parsed.reason}.`, { field });
    return parsed.value;
  };
  const like = (v: unknown) => {
    if (typeof v !== 'string' || !v) throw new BadRequestError('INVALID_CONDITION', `${c.op} needs some text.`, { field });
    return v.replace(/[\\%_]/g, (m) => `\\${m}`);
  };
  switch (c.op) {
    case 'eq':
      return `${col} = ${p(one(c.value), type)}`;
    case 'ne':
      return `${col} IS DISTINCT FROM ${p(one(c.value), type)}`;
    case 'in':
      return `${col} = ANY(${p((c.value as unknown[]).map(one), `${type}[]`)})`;
    case 'between': {
      const [lo, hi] = (c.value as unknown[]).map(one);
      return `${col} BETWEEN ${p(lo, type)} AND ${p(hi, type)}`;
    }
    case 'gt':
      return `${col} > ${p(one(c.value), type)}`;
    case 'gte':
      return `${col} >= ${p(one(c.value), type)}`;
    case 'lt':
      return `${col} < ${p(one(c.value), type)}`;
    case 'lte':
      return `${col} <= ${p(one(c.value), type)}`;
    case 'contains':
      return `${col} LIKE '%' || ${p(like(c.value), 'text')} || '%'`;
    case 'startsWith':
      return `${col} LIKE ${p(like(c.value), 'text')} || '%'`;
    case 'isNull':
      return `${col} IS NULL`;
    case 'notNull':
      return `${col} IS NOT NULL`;
  }
}

export interface SliceTerms {
  ds: DatasetRuntime;
  grant: ClearTerms & { rowFilter: RowFilter | null };
  items: readonly string[];
  conditions: readonly JobCondition[];
}

/** Checks a filter's conditions once, when the job is accepted (a value of the wrong type is the caller's to correct). */
export function checkConditions(ds: DatasetRuntime, conditions: readonly JobCondition[]): void {
  conditions.forEach((c, i) => conditionSql(ds, c, i, () => ''));
}

/**
 * A chunk of the granted slice ($1 job, $2 rows so far, $3 chunk size, $4 after this key or null):
 * the next rows in row-key order (the key's unique index), restricted by the grant's row filter
 * and the job's conditions, presented exactly as a data call presents them (masked, formatted),
 * written as result lines; answers how many and the last key.
 */
export function sliceChunkSql({ ds, grant, items, conditions }: SliceTerms, planner: QueryPlanner): { text: string; values: unknown[]; count: { text: string; values: unknown[] } } {
  const where = (offset: number) => {
    const values: unknown[] = [];
    const p = (v: unknown, type: string) => {
      values.push(v);
      return `$${values.length + offset}::${type}`;
    };
    return { clauses: [`${q(SYS.deletedAt)} IS NULL`, ...planner.rowFilterSql(ds, grant.rowFilter, p), ...conditions.map((c, i) => conditionSql(ds, c, i, p))], values };
  };
  const keyItem = ds.itemsByKey.get(ds.upsertKey)!;
  const key = q(ds.columnByKey.get(ds.upsertKey)!);
  const chunk = where(4);
  const text = `WITH chunk AS (
      SELECT ${key} AS k, ${recordSql('ndjson', ds, grant, items, 'false', false)} AS line FROM ${ds.table}
      WHERE ${[...chunk.clauses, `($4::text IS NULL OR ${key} > $4::${paramTypeOf(keyItem)})`].join(' AND ')} ORDER BY ${key} LIMIT $3
    ), numbered AS (
      SELECT k, line, row_number() OVER (ORDER BY k) AS n FROM chunk
    ), written AS (
      INSERT INTO job_result (job_id, seq, lines, block) SELECT $1, $2 + min(n), count(*), string_agg(line, E'\\n' ORDER BY n) FROM numbered GROUP BY (n - 1) / ${RESULT_BLOCK}
    )
    SELECT count(*)::int AS n, (SELECT k::text FROM numbered ORDER BY n DESC LIMIT 1) AS last FROM numbered`;
  // The rows to expect, counted once when the job starts (the progress bar's total).
  const count = where(0);
  return { text, values: chunk.values, count: { text: `SELECT count(*)::int AS n FROM ${ds.table} WHERE ${count.clauses.join(' AND ')}`, values: count.values } };
}
