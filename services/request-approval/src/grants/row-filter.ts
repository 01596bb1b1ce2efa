import type { RowFilter } from '@gdx/contracts';
import { ValidationError } from '@gdx/errors';

// The row filter's shape (RowFilterSchema) is the contracts'; what only this service can check is here.

/** A query key as the catalogue declares it; its type decides whether values are numbers or strings. */
export interface QueryKey {
  key: string;
  type?: string;
}

const NUMERIC = new Set(['integer', 'decimal']);

/**
 * Checks what the schema cannot: every key is a query key of this resource (a
 * filter on any other column would mean a scan of data nobody may search by),
 * values have the item's type (a number never matches a code stored as text), and
 * a range is not empty. `field` names the input in the problem document.
 */
export function validateRowFilter(filter: RowFilter, queryKeys: readonly QueryKey[], field: string): RowFilter {
  filter.all.forEach((c, i) => {
    const qk = queryKeys.find((k) => k.key === c.key);
    if (!qk) {
      throw new ValidationError(
        `${c.key} is not a query key of this resource (query keys: ${queryKeys.map((k) => k.key).join(', ') || 'none'}).`,
        { field: `${field}.all[${i}].key` },
        'ROW_FILTER_KEY_NOT_QUERYABLE',
      );
    }
    const want = qk.type && NUMERIC.has(qk.type) ? 'number' : 'string';
    const values = Array.isArray(c.value) ? c.value : [c.value];
    if (values.some((v) => typeof v !== want)) {
      throw new ValidationError(
        `${c.key} holds ${want === 'number' ? 'numbers' : 'text'}; compare it with ${want === 'number' ? 'numbers' : 'strings'}.`,
        { field: `${field}.all[${i}].value` },
        'ROW_FILTER_INVALID',
      );
    }
    if (c.op === 'between' && c.value[0] > c.value[1]) {
      throw new ValidationError('The range is empty: its lower end is above its upper end.', { field: `${field}.all[${i}].value` }, 'ROW_FILTER_INVALID');
    }
  });
  return { all: filter.all.map((c) => (c.op === 'in' ? { ...c, value: [...new Set(c.value)] } : c)) };
}
