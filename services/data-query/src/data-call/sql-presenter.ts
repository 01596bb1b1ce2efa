import type { ItemMask, ItemView } from '@gdx/contracts';
import type { DatasetRuntime } from '../datasets/dataset-registry';
import { q } from '../datasets/resource-model';
import { isClear, isMasked, type ClearTerms } from '../query/masking';
import type { PullFormatName } from './pull-formats';

/**
 * A pull's rows, presented by PostgreSQL itself: each row leaves the database as the very
 * line the recipient gets (NDJSON or JSON object, CSV record), masked and formatted as the
 * grant and the catalogue say, so that the service only passes text on. This is the value
 * model of item-values.ts (formatItemValue, formatDecimal) and masking.ts (applyMask) written
 * in SQL; tests/data-call/sql-presenter.test.ts holds the two to the same answers value by value.
 * Nothing from a request reaches this SQL: item keys passed the identifier pattern, masks and
 * scales are integers checked here.
 */

const HIDDEN = "'***'";
const MAX_SAFE = '9007199254740991';

function int(n: number): string {
  if (!Number.isInteger(n) || n < 0 || n > 1000) throw new RangeError(`${n} is not a mask or scale`);
  return String(n);
}

/** The value's text as the JSON answer carries it (item-values.ts formatItemValue / formatDecimal), null when absent. */
function textOf(item: ItemView, col: string): string {
  switch (item.type) {
    case 'string':
    case 'code':
    case 'date':
    case 'integer':
    case 'boolean':
      return `${col}::text`;
    case 'datetime':
      // JavaScript's toISOString: UTC, milliseconds (the microseconds dropped, not rounded).
      return `to_char(date_trunc('milliseconds', ${col}) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
    case 'decimal':
      // round() on numeric is half away from zero, as formatDecimal; it pads to the scale too.
      return item.scale === undefined ? `${col}::text` : `round(${col}, ${int(item.scale)})::text`;
  }
}

/** applyMask in SQL: the kept ends (code points), the rest as `*`; nothing left to hide → the whole value hidden. */
function masked(mask: ItemMask, text: string): string {
  if (mask === 'full') return `CASE WHEN ${text} IS NULL THEN NULL ELSE ${HIDDEN} END`;
  const ks = int(mask.keepStart);
  const ke = int(mask.keepEnd);
  return `CASE WHEN ${text} IS NULL THEN NULL WHEN char_length(${text}) - ${ks} - ${ke} <= 0 THEN ${HIDDEN} ELSE left(${text}, ${ks}) || repeat('*', char_length(${text}) - ${ks} - ${ke}) || right(${text}, ${ke}) END`;
}

/** The item's value as it leaves under the grant: its text, masked or clear. */
function presentedText(item: ItemView, col: string, grant: ClearTerms): string {
  const text = textOf(item, col);
  return isMasked(item) && !isClear(item, grant) ? masked(item.mask ?? 'full', text) : text;
}

/** The JSON text of the value as it leaves (numbers and booleans as such when in clear, everything masked as a string). */
function presentedJson(item: ItemView, col: string, grant: ClearTerms): string {
  if (isMasked(item) && !isClear(item, grant)) return `COALESCE(to_json(${presentedText(item, col, grant)})::text, 'null')`;
  switch (item.type) {
    case 'integer':
      // Beyond 2^53 a JSON number would lose digits: the text, as formatItemValue does.
      return `COALESCE(CASE WHEN ${col} BETWEEN -${MAX_SAFE} AND ${MAX_SAFE} THEN ${col}::text ELSE to_json(${col}::text)::text END, 'null')`;
    case 'boolean':
      return `COALESCE(${col}::text, 'null')`;
    default:
      return `COALESCE(to_json(${textOf(item, col)})::text, 'null')`;
  }
}

/** RFC 4180: a field with a quote, a comma or a line break is quoted, its quotes doubled; absent is empty. */
function csvField(text: string): string {
  return `CASE WHEN ${text} IS NULL THEN '' WHEN ${text} ~ '[",\\r\\n]' THEN '"' || replace(${text}, '"', '""') || '"' ELSE ${text} END`;
}

const jsonKey = (key: string) => `'${JSON.stringify(key)}:'`;

/**
 * The SQL expression of one record of a pull (without its terminator): a row as the format
 * writes it, or, for a row deleted since (`deleted`), its tombstone naming the row key.
 */
export function recordSql(format: PullFormatName, ds: DatasetRuntime, grant: ClearTerms, items: readonly string[], deleted: string, tombstones: boolean): string {
  const col = (key: string) => q(ds.columnByKey.get(key)!);
  const item = (key: string) => ds.itemsByKey.get(key)!;
  const key = ds.upsertKey;
  if (format === 'csv') {
    const row = items.map((k) => csvField(presentedText(item(k), col(k), grant)));
    if (!tombstones) return row.join(` || ',' || `);
    const tomb = items.map((k) => (k === key ? csvField(presentedText(item(k), col(k), grant)) : "''"));
    return `CASE WHEN ${deleted} THEN ${[...tomb, "'true'"].join(` || ',' || `)} ELSE ${[...row, "''"].join(` || ',' || `)} END`;
  }
  const row = `'{' || ${items.map((k) => `${jsonKey(k)} || ${presentedJson(item(k), col(k), grant)}`).join(` || ',' || `)} || '}'`;
  if (!tombstones) return row;
  return `CASE WHEN ${deleted} THEN '{"_deleted":true,' || ${jsonKey(key)} || ${presentedJson(item(key), col(key), grant)} || '}' ELSE ${row} END`;
}
