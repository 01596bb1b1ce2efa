import type { ItemMask, ItemView } from '@gdx/contracts';

export type Masker = (value: unknown) => unknown;

/** What a grant says about clear items (§6): the items it lists, and the office-recorded legal basis secret items need. */
export interface ClearTerms {
  clearItems: ReadonlySet<string>;
  clearLegalBasis: string | null;
}

/** What a fully masked value, or one too short to keep its ends, becomes: nothing of it, not even its length. */
const HIDDEN = '***';

/**
 * One value masked as its item declares: `full` hides it, otherwise the first
 * `keepStart` and last `keepEnd` characters (code points) stay and the rest become `*`.
 * A value with nothing left to hide once its ends are kept is hidden whole.
 */
export function applyMask(mask: ItemMask, value: string): string {
  if (mask === 'full') return HIDDEN;
  const chars = [...value];
  const hidden = chars.length - mask.keepStart - mask.keepEnd;
  if (hidden <= 0) return HIDDEN;
  return `${chars.slice(0, mask.keepStart).join('')}${'*'.repeat(hidden)}${mask.keepEnd ? chars.slice(-mask.keepEnd).join('') : ''}`;
}

/** Item columns reach the masker as text, numbers or booleans (pg's parsers): never as objects. */
const textOf = (v: unknown): string => (typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean' ? v.toString() : JSON.stringify(v));

/** Whether the item's sensitivity masks it at all: `public` and `internal` items leave in clear. */
export function isMasked(item: ItemView): boolean {
  return item.sensitivity === 'personal' || item.sensitivity === 'secret';
}

/**
 * The masker of an item, from the mask the catalogue declared for it (never guessed
 * from its key or label); null for items that leave in clear. A personal or secret
 * item that reached us without a mask (stored before masks were declared) is hidden whole.
 */
export function maskerOf(item: ItemView): Masker | null {
  if (!isMasked(item)) return null;
  const mask = item.mask ?? 'full';
  return (v) => (v === null || v === undefined ? null : applyMask(mask, textOf(v)));
}

/**
 * Whether a grant lets a masked item leave in clear: a `personal` item when the grant
 * lists it; a `secret` item only when it is listed and the grant carries an
 * office-recorded legal basis.
 */
export function isClear(item: ItemView, grant: ClearTerms): boolean {
  if (!isMasked(item)) return true;
  if (!grant.clearItems.has(item.key)) return false;
  return item.sensitivity === 'personal' || (grant.clearLegalBasis !== null && grant.clearLegalBasis.trim().length > 0);
}
