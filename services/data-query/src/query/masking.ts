import type { ItemView } from '@gdx/contracts';
import { IDENTITY_ELEMENT } from '../datasets/resource-model';

export type Masker = (value: unknown) => unknown;

const NAME_LABELS = ['姓名', '法定代表人', '权利人'];

/** Identity numbers: every item that holds one, whether or not it names the standard element. */
function holdsIdentityNumber(item: ItemView): boolean {
  return item.element === IDENTITY_ELEMENT || /(^id|IdNumber)$/i.test(item.key) || /身份号码|身份证/.test(item.label ?? '');
}

function holdsName(item: ItemView): boolean {
  return /name$/i.test(item.key) || NAME_LABELS.some((l) => (item.label ?? '').includes(l));
}

/** `340302199001011234` → `340302********1234`: region and the last four stay for a human to recognise the record. */
export function maskIdentityNumber(value: string): string {
  return value.length > 10 ? `${value.slice(0, 6)}${'*'.repeat(value.length - 10)}${value.slice(-4)}` : '***';
}

/** `张三丰` → `张*`: the surname only. */
export function maskName(value: string): string {
  const first = String.fromCodePoint(value.codePointAt(0) ?? 42);
  return value.length ? `${first}*` : value;
}

/**
 * The masker of a personal item, chosen once per dataset item rather than per
 * value; null for items that are not personal (shown as stored).
 */
/** Item columns reach the masker as text or numbers (pg's parsers): never as objects. */
const textOf = (v: unknown): string => (typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'bigint' ? v.toString() : JSON.stringify(v));

export function maskerOf(item: ItemView): Masker | null {
  if (item.sensitivity !== 'personal') return null;
  if (holdsIdentityNumber(item)) return (v) => (v === null ? null : maskIdentityNumber(textOf(v)));
  if (holdsName(item)) return (v) => (v === null ? null : maskName(textOf(v)));
  return (v) => (v === null ? null : '***');
}
