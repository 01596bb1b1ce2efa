/**
 * JSON canonicalisation in the manner of RFC 8785 (JCS): object members sorted by
 * the UTF-16 code units of their names, no whitespace, numbers and strings written
 * as ECMAScript's JSON.stringify writes them (which is what JCS specifies). The hash
 * of a record must not depend on key order or on how PostgreSQL's jsonb reshuffles
 * it, so both the writer and every verifier hash this form.
 */
export function canonicalize(value: unknown): string {
  try {
    // Fast path: a copy whose members were inserted in canonical order, written by the
    // engine's own JSON.stringify (an order of magnitude faster than concatenating).
    return JSON.stringify(sortedCopy(value));
  } catch (err) {
    if (!(err instanceof ArrayIndexKey)) throw err;
    return slowCanonicalize(value);
  }
}

/**
 * Objects keep integer-like member names ("2", "10") in numeric order whatever the
 * insertion order, so for those the copy trick does not hold and the slow path
 * writes the text by hand.
 */
class ArrayIndexKey extends Error {}
const ARRAY_INDEX = /^(?:0|[1-9]\d{0,9})$/;

/** A copy with object members in canonical order; throws ArrayIndexKey where that cannot be expressed. */
export function sortedCopy(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) {
    if (typeof value === 'number' && !Number.isFinite(value)) throw new TypeError('canonical JSON has no NaN or Infinity');
    if (typeof value === 'bigint') throw new TypeError('canonical JSON has no bigint; convert it first');
    return value;
  }
  if (Array.isArray(value)) {
    const out = new Array<unknown>(value.length);
    for (let i = 0; i < value.length; i++) out[i] = sortedCopy(value[i]);
    return out;
  }
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return sortedCopy((value as { toJSON: () => unknown }).toJSON());
  const obj = value as Record<string, unknown>;
  // Default sort compares UTF-16 code units, exactly what RFC 8785 §3.2.3 asks for.
  const keys = Object.keys(obj).sort();
  const out: Record<string, unknown> = {};
  for (const k of keys) {
    if (ARRAY_INDEX.test(k) && Number(k) < 4294967295) throw new ArrayIndexKey();
    const v = obj[k];
    if (v !== undefined && typeof v !== 'function') out[k] = sortedCopy(v);
  }
  return out;
}

function slowCanonicalize(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError('canonical JSON has no NaN or Infinity');
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object': {
      if (value === null) return 'null';
      if (Array.isArray(value)) {
        // As JSON.stringify does: undefined and functions inside arrays are null.
        return `[${value.map((item: unknown) => (item === undefined || typeof item === 'function' ? 'null' : slowCanonicalize(item))).join(',')}]`;
      }
      if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return slowCanonicalize((value as { toJSON: () => unknown }).toJSON());
      const obj = value as Record<string, unknown>;
      const parts: string[] = [];
      for (const k of Object.keys(obj).sort()) {
        const v = obj[k];
        if (v === undefined || typeof v === 'function') continue;
        parts.push(`${JSON.stringify(k)}:${slowCanonicalize(v)}`);
      }
      return `{${parts.join(',')}}`;
    }
    case 'bigint':
      throw new TypeError('canonical JSON has no bigint; convert it first');
    default:
      throw new TypeError(`cannot canonicalise a ${typeof value}`);
  }
}
