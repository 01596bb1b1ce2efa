import type { ItemView } from '@gdx/contracts';
import { parseItemValue, type BoundValue } from '../datasets/item-values';

export interface RowError {
  /** 1-based ordinal of the record in the batch (blank lines and a CSV header are not records). */
  row: number;
  /** The item the reason is about, or null when it is about the whole record. */
  item: string | null;
  reason: string;
}

export interface ValidRow {
  op: 'upsert' | 'delete';
  key: string;
  /** Aligned with the dataset's items. */
  values: BoundValue[];
}

/**
 * Checks a submitted record against the resource's items: known items only,
 * required items present, every value of its type, length and code table, the
 * row key present. Rows are whole replacements: an optional item left out is
 * stored as null. A delete needs only the row key.
 */
export class RowValidator {
  private readonly index = new Map<string, number>();
  private readonly keyIndex: number;

  constructor(
    private readonly items: ItemView[],
    private readonly upsertKey: string,
  ) {
    items.forEach((item, i) => this.index.set(item.key, i));
    this.keyIndex = this.index.get(upsertKey) ?? -1;
    if (this.keyIndex < 0) throw new Error(`the row key ${upsertKey} is not an item`);
  }

  /** The row ready to write, or null after reporting each of its errors. */
  validate(record: unknown, row: number, report: (e: RowError) => void): ValidRow | null {
    if (!record || typeof record !== 'object' || Array.isArray(record)) {
      report({ row, item: null, reason: 'is not an object of item values' });
      return null;
    }
    const rec = record as Record<string, unknown>;
    let failed = false;
    const fail = (item: string | null, reason: string) => {
      failed = true;
      report({ row, item, reason });
    };
    const opRaw = rec.op;
    const op = opRaw === undefined || opRaw === null || opRaw === '' ? 'upsert' : opRaw;
    if (op !== 'upsert' && op !== 'delete') fail('op', 'must be upsert or delete');
    const values = new Array<BoundValue>(this.items.length).fill(null);
    for (const k of Object.keys(rec)) {
      if (k === 'op') continue;
      const i = this.index.get(k);
      if (i === undefined) {
        fail(k, 'is not an item of this resource');
        continue;
      }
      // A delete carries the key only; other values of a delete are not data to store.
      if (op === 'delete' && i !== this.keyIndex) continue;
      const parsed = parseItemValue(this.items[i], rec[k]);
      if (parsed.ok) values[i] = parsed.value;
      else fail(k, parsed.reason);
    }
    if (values[this.keyIndex] === null && !rec[this.upsertKey]) fail(this.upsertKey, 'is the row key and is required');
    if (op === 'upsert') {
      this.items.forEach((item, i) => {
        if (item.required && i !== this.keyIndex && values[i] === null && (rec[item.key] === undefined || rec[item.key] === null || rec[item.key] === '')) fail(item.key, 'is required');
      });
    }
    if (failed) return null;
    return { op: op as ValidRow['op'], key: String(values[this.keyIndex]), values };
  }
}
