import { BadRequestError, ForbiddenError } from '@gdx/errors';
import type { DatasetRuntime } from '../datasets/dataset-registry';
import { decimalPresenter } from '../datasets/item-values';
import { isClear, maskerOf, type ClearTerms, type Masker } from './masking';

/** Per dataset item: how its value leaves in clear (a decimal's scale), and masked. */
interface Presenters {
  clear: (Masker | null)[];
  masked: (Masker | null)[];
}

const cache = new WeakMap<DatasetRuntime, Presenters>();

function presentersOf(ds: DatasetRuntime): Presenters {
  let p = cache.get(ds);
  if (!p) {
    const clear = ds.items.map(decimalPresenter);
    const masked = ds.items.map((item, n) => {
      const mask = maskerOf(item);
      const present = clear[n];
      return mask && present ? (v: unknown) => mask(present(v)) : mask;
    });
    p = { clear, masked };
    cache.set(ds, p);
  }
  return p;
}

/**
 * How each of `items` leaves under a grant (§6), decided once per answer and item: the
 * same for every mode (an interface query's page, a pull's stream, a push delivery).
 * Each entry is the item's column index in the dataset's rows and its presenter (null:
 * the stored value as it is).
 */
export function presentation(ds: DatasetRuntime, grant: ClearTerms, items: readonly string[]): { column: number; present: Masker | null }[] {
  const { clear, masked } = presentersOf(ds);
  return items.map((key) => {
    const c = ds.indexByKey.get(key)!;
    return { column: c, present: isClear(ds.items[c], grant) ? clear[c] : (masked[c] ?? clear[c]) };
  });
}

/** An item the resource does not have is the caller's mistake whatever its grants: 400, before the grant decision. */
export function checkItemsKnown(ds: DatasetRuntime, requested: readonly string[] | undefined, field: string): void {
  requested?.forEach((key, i) => {
    if (!ds.itemsByKey.has(key)) throw new BadRequestError('UNKNOWN_ITEM', `${key} is not an item of this resource.`, { field: `${field}[${i}]`, item: key });
  });
}

/** The requested items (the decision found them granted); none requested means every granted item the resource still has. */
export function projection(ds: DatasetRuntime, g: { id: string; items: ReadonlySet<string> }, requested: readonly string[] | undefined): string[] {
  if (requested?.length) return [...new Set(requested)];
  const items = ds.items.filter((i) => g.items.has(i.key)).map((i) => i.key);
  if (!items.length) throw new ForbiddenError('Your unit’s grant covers no item this resource still has.', 'ITEM_NOT_GRANTED', { grantId: g.id });
  return items;
}
