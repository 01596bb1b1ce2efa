import { createHash } from 'node:crypto';
import { BadRequestError, ForbiddenError } from '@gdx/errors';
import type { DatasetRuntime } from '../datasets/dataset-registry';
import type { ItemView, RowCondition, RowFilter } from '@gdx/contracts';
import { paramTypeOf, q, SYS } from '../datasets/resource-model';
import { compareItemValues, isRangeType, parseItemValue, type BoundValue, type Parsed } from '../datasets/item-values';
import { decodeCursor, encodeCursor } from '@gdx/service-kit';

export interface PlannedQuery {
  kind: 'page';
  /** Prepared-statement name: the same shape on the same dataset version reuses the plan on every connection. */
  name: string;
  text: string;
  values: unknown[];
}

/**
 * A lookup of one row by its row key (the typical interface query: one person,
 * one company). Concurrent lookups of the same statement and filter values share
 * one `key = ANY($1)` statement; see PointBatcher.
 */
export interface PointQuery {
  kind: 'point';
  name: string;
  text: string;
  /** Everything but $1 (the keys). */
  values: unknown[];
  key: string;
  /** Index of the row key in each returned row. */
  keyIndex: number;
  /** Lookups with equal batch keys may share a statement. */
  batchKey: string;
}

interface Condition {
  col: string;
  sql: (p: (v: unknown, type: string) => string) => string;
  /** Part of the statement's identity; values never are. */
  shape: string;
}

type Where = Record<string, unknown>;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

/** A value in a condition: the item's own value model, except that a JSON number names a code or text as well (`340302`). */
/** A condition's value: a number given for a text item is its text. */
export function conditionValue(item: ItemView, raw: unknown): Parsed {
  return parseItemValue(item, typeof raw === 'number' && (item.type === 'string' || item.type === 'code') ? String(raw) : raw);
}

/**
 * Compiles a validated query into one parameterised statement. Only the shape
 * (which columns, which operators, whether a cursor is given) reaches the SQL
 * text; every value is a parameter, `in` lists are one array parameter, so the
 * number of distinct statements stays small and each is prepared once per
 * connection.
 */
export class QueryPlanner {
  constructor(private readonly inLimit: number) {}

  plan(ds: DatasetRuntime, where: Where, rowFilter: RowFilter | null, cursor: string | undefined, limit: number): PlannedQuery | PointQuery {
    const conditions: Condition[] = [];
    const keys = Object.keys(where);
    if (!keys.length) throw new BadRequestError('CONDITION_REQUIRED', 'Give at least one condition on a query key: interface queries do not scan.', { field: 'body.where' });
    for (const key of keys.sort()) conditions.push(this.condition(ds, key, where[key]));
    const filters = (rowFilter?.all ?? []).map((c, i) => this.filterCondition(ds, c, i));
    const keyItem = ds.itemsByKey.get(ds.upsertKey)!;
    // Text keys only: their bound value and the stored value compare as equal strings, so rows map back to callers exactly.
    if (keys.length === 1 && keys[0] === ds.upsertKey && !isPlainObject(where[keys[0]]) && cursor === undefined && (keyItem.type === 'string' || keyItem.type === 'code')) {
      return this.point(ds, String(this.scalar(keyItem, where[keys[0]], `body.where.${keys[0]}`)), filters);
    }
    conditions.push(...filters);
    const keyCol = q(ds.columnByKey.get(ds.upsertKey)!);
    const values: unknown[] = [];
    const p = (v: unknown, type: string) => {
      values.push(v);
      return `$${values.length}::${type}`;
    };
    // Binding the values yields the clauses too; the statement text is only assembled on the first use of a shape.
    const clauses = [`${q(SYS.deletedAt)} IS NULL`, ...conditions.map((c) => c.sql(p))];
    if (cursor !== undefined) clauses.push(`${keyCol} > ${p(this.cursorValue(keyItem, cursor), paramTypeOf(keyItem))}`);
    const limitParam = p(limit + 1, 'int');
    const shape = `page|${conditions.map((c) => c.shape).join('&')}|${cursor !== undefined}`;
    let stmt = ds.statements.get(shape);
    if (!stmt) {
      const text = `SELECT ${ds.selectList} FROM ${ds.table} WHERE ${clauses.join(' AND ')} ORDER BY ${keyCol} LIMIT ${limitParam}`;
      stmt = { name: `dq_${createHash('sha1').update(`${ds.version}\n${text}`).digest('hex').slice(0, 20)}`, text };
      ds.statements.set(shape, stmt);
    }
    return { kind: 'page', name: stmt.name, text: stmt.text, values };
  }

  /** The grant's row filter as SQL clauses with their values bound through `p`: a pull applies the same filter as a query. */
  rowFilterSql(ds: DatasetRuntime, rowFilter: RowFilter | null, p: (v: unknown, type: string) => string, alias?: string): string[] {
    return (rowFilter?.all ?? []).map((c, i) => this.filterCondition(ds, c, i, alias).sql(p));
  }

  private point(ds: DatasetRuntime, key: string, filters: Condition[]): PointQuery {
    const values: unknown[] = [];
    const p = (v: unknown, type: string) => {
      values.push(v);
      return `$${values.length + 1}::${type}`;
    };
    const filterSql = filters.map((c) => c.sql(p));
    const shape = `point|${filters.map((c) => c.shape).join('&')}`;
    let stmt = ds.statements.get(shape);
    if (!stmt) {
      const clauses = [`${q(SYS.deletedAt)} IS NULL`, `${q(ds.columnByKey.get(ds.upsertKey)!)} = ANY($1::text[])`, ...filterSql];
      const text = `SELECT ${ds.selectList} FROM ${ds.table} WHERE ${clauses.join(' AND ')}`;
      stmt = { name: `dq_${createHash('sha1').update(`${ds.version}\n${text}`).digest('hex').slice(0, 20)}`, text };
      ds.statements.set(shape, stmt);
    }
    return { kind: 'point', name: stmt.name, text: stmt.text, values, key, keyIndex: ds.keyIndex, batchKey: values.length ? `${stmt.name}|${JSON.stringify(values)}` : stmt.name };
  }

  encodeCursor(key: unknown): string {
    return encodeCursor([key]);
  }

  private cursorValue(item: ItemView, cursor: string): BoundValue {
    return decodeCursor(
      cursor,
      (parts) => {
        const value = parts.length === 1 ? parseItemValue(item, parts[0]) : undefined;
        return value?.ok && value.value !== null ? value.value : undefined;
      },
      'body.cursor',
    );
  }

  private scalar(item: ItemView, raw: unknown, field: string): BoundValue {
    if (raw === null || typeof raw === 'object') throw new BadRequestError('INVALID_CONDITION', `${item.key} must be compared with a single value.`, { field });
    const parsed = conditionValue(item, raw);
    if (!parsed.ok || parsed.value === null) throw new BadRequestError('INVALID_CONDITION', `The value of ${item.key} ${parsed.ok ? 'is empty' : parsed.reason}.`, { field });
    return parsed.value;
  }

  private condition(ds: DatasetRuntime, key: string, raw: unknown): Condition {
    const item = ds.itemsByKey.get(key);
    const field = `body.where.${key}`;
    if (!item?.queryKey)
      throw new BadRequestError(
        'NOT_A_QUERY_KEY',
        `${key} is not a query key of this resource; query by ${ds.items
          .filter((i) => i.queryKey)
          .map((i) => i.key)
          .join(', ')}.`,
        { field, item: key },
      );
    const col = q(ds.columnByKey.get(key)!);
    const type = paramTypeOf(item);
    if (!isPlainObject(raw)) {
      const v = this.scalar(item, raw, field);
      return { col, shape: `${key}=`, sql: (p) => `${col} = ${p(v, type)}` };
    }
    const ops = Object.keys(raw);
    if (ops.length === 1 && ops[0] === 'in') {
      const list = raw.in;
      if (!Array.isArray(list) || !list.length) throw new BadRequestError('INVALID_CONDITION', `in needs a list of values for ${key}.`, { field });
      if (list.length > this.inLimit) throw new BadRequestError('TOO_MANY_VALUES', `in lists at most ${this.inLimit} values.`, { field });
      const vs = [...new Set(list.map((v, i) => this.scalar(item, v, `${field}.in[${i}]`)))];
      return { col, shape: `${key}:in`, sql: (p) => `${col} = ANY(${p(vs, `${type}[]`)})` };
    }
    if (ops.length && ops.every((o) => o === 'gte' || o === 'lte')) {
      if (!isRangeType(item.type)) throw new BadRequestError('RANGE_NOT_ALLOWED', `${key} is not a date or number; ranges apply to dates and numbers only.`, { field });
      const lo = raw.gte === undefined ? undefined : this.scalar(item, raw.gte, `${field}.gte`);
      const hi = raw.lte === undefined ? undefined : this.scalar(item, raw.lte, `${field}.lte`);
      // A range that holds nothing is a mistake the caller can correct, not an empty answer.
      if (typeof lo === 'string' && typeof hi === 'string' && compareItemValues(item.type, lo, hi) > 0)
        throw new BadRequestError('INVALID_CONDITION', `The range of ${key} is empty: gte is after lte.`, { field });
      return {
        col,
        shape: `${key}:${lo !== undefined ? 'g' : ''}${hi !== undefined ? 'l' : ''}`,
        sql: (p) => [lo !== undefined ? `${col} >= ${p(lo, type)}` : '', hi !== undefined ? `${col} <= ${p(hi, type)}` : ''].filter(Boolean).join(' AND '),
      };
    }
    throw new BadRequestError('INVALID_CONDITION', `A condition is a value, { in: [...] } or { gte, lte }; got ${ops.join(', ') || 'an empty object'} for ${key}.`, { field });
  }

  /** The grant's row filter: a condition the caller did not choose and cannot lift. A filter this dataset cannot apply denies (fail closed). */
  private filterCondition(ds: DatasetRuntime, c: RowCondition, i: number, alias?: string): Condition {
    const item = ds.itemsByKey.get(c.key);
    const unusable = () => new ForbiddenError('The grant’s row filter cannot be applied to this resource; ask the provider to correct the grant.', 'GRANT_FILTER_INVALID');
    if (!item) throw unusable();
    const col = `${alias ? `${alias}.` : ''}${q(ds.columnByKey.get(c.key)!)}`;
    const type = paramTypeOf(item);
    const one = (v: unknown) => {
      const parsed = conditionValue(item, v);
      if (!parsed.ok || parsed.value === null) throw unusable();
      return parsed.value;
    };
    if (c.op === 'eq') {
      const v = one(c.value);
      return { col, shape: `f${i}:${c.key}=`, sql: (p) => `${col} = ${p(v, type)}` };
    }
    if (c.op === 'in' && Array.isArray(c.value) && c.value.length) {
      const vs = c.value.map(one);
      return { col, shape: `f${i}:${c.key}:in`, sql: (p) => `${col} = ANY(${p(vs, `${type}[]`)})` };
    }
    if (c.op === 'between' && Array.isArray(c.value) && c.value.length === 2) {
      const [lo, hi] = c.value.map(one);
      // Inverted bounds would quietly answer nothing: the grant is wrong, say so.
      if (isRangeType(item.type) && typeof lo === 'string' && typeof hi === 'string' && compareItemValues(item.type, lo, hi) > 0) throw unusable();
      return { col, shape: `f${i}:${c.key}:between`, sql: (p) => `${col} BETWEEN ${p(lo, type)} AND ${p(hi, type)}` };
    }
    throw unusable();
  }
}
