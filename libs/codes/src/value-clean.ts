import { isValidCreditCode, isValidResidentId, residentIdCheckChar } from './check-digits';
import { referenceData } from './reference';
import { toHalfWidth } from './text-normalize';

/**
 * Cleaning of single submitted values for the customization jobs. Every function is
 * pure: it returns the cleaned value and what was changed, or a rejection with a short
 * English detail. Details never repeat the value (it may be an identity number).
 */
export type CleanChange = 'trimmed' | 'half-width' | 'upper-case' | 'date-format' | 'id-15-to-18' | 'mapped';
export type CleanRejection = 'INVALID_DATE' | 'INVALID_ID_NUMBER' | 'INVALID_CREDIT_CODE' | 'UNKNOWN_REGION' | 'RETIRED_REGION' | 'UNKNOWN_SEX';
export type Cleaned = { ok: true; value: string; changes: CleanChange[] } | { ok: false; reason: CleanRejection; detail: string };

function reject(reason: CleanRejection, detail: string): Cleaned {
  return { ok: false, reason, detail };
}

/** Half-width then trim, recording each step only when it changed something. */
function prepare(raw: string): { value: string; changes: CleanChange[] } {
  const changes: CleanChange[] = [];
  const half = toHalfWidth(raw);
  if (half !== raw) changes.push('half-width');
  const value = half.trim();
  if (value !== half) changes.push('trimmed');
  return { value, changes };
}

export function cleanText(raw: string): Cleaned {
  const { value, changes } = prepare(raw);
  return { ok: true, value, changes };
}

function isRealDate(y: number, m: number, d: number): boolean {
  if (m < 1 || m > 12 || d < 1) return false;
  const date = new Date(Date.UTC(2000, m - 1, d));
  date.setUTCFullYear(y); // years below 100 would otherwise be read as 19xx
  return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
}

const pad2 = (n: number): string => String(n).padStart(2, '0');

const DATE_FORMS: RegExp[] = [
  /^(\d{4})([-/.])(\d{1,2})\2(\d{1,2})$/, // YYYY-MM-DD, YYYY-M-D, YYYY/M/D, YYYY.M.D (one separator throughout)
  /^(\d{4})()(\d{2})(\d{2})$/, // YYYYMMDD
  /^(\d{4})(年)(\d{1,2})月(\d{1,2})日?$/, // YYYY年M月D日, 日 optional
];

/** A calendar date (no time part) in one of the accepted forms → ISO 8601 YYYY-MM-DD. */
export function cleanDate(raw: string): Cleaned {
  const { value, changes } = prepare(raw);
  let m: RegExpExecArray | null = null;
  for (const form of DATE_FORMS) if ((m = form.exec(value))) break;
  if (!m) return reject('INVALID_DATE', 'is not a date in a recognised format (YYYY-MM-DD, YYYY/M/D, YYYY.M.D, YYYYMMDD or YYYY年M月D日)');
  const [y, mo, d] = [Number(m[1]), Number(m[3]), Number(m[4])];
  if (y < 1000 || y > 9999) return reject('INVALID_DATE', 'has a year outside 1000 to 9999');
  if (!isRealDate(y, mo, d)) return reject('INVALID_DATE', 'is not a date that exists');
  const iso = `${y}-${pad2(mo)}-${pad2(d)}`;
  if (iso !== value) changes.push('date-format');
  return { ok: true, value: iso, changes };
}

/** GB 11643: the birth date inside an 18-character number (1850 onwards, as isValidResidentId). */
function residentIdBirthDateOk(first14: string): boolean {
  const y = Number(first14.slice(6, 10));
  return y >= 1850 && isRealDate(y, Number(first14.slice(10, 12)), Number(first14.slice(12, 14)));
}

/**
 * A resident identity number (GB 11643-1999). A trailing lower-case x is upper-cased;
 * an old 15-digit number (region, YYMMDD, sequence) becomes 18 characters by putting
 * '19' before the year and appending the check character.
 */
export function cleanResidentId(raw: string): Cleaned {
  const { value: prepared, changes } = prepare(raw);
  let value = prepared;
  if (/^\d{17}x$/.test(value)) {
    value = value.slice(0, 17) + 'X';
    changes.push('upper-case');
  }
  if (/^\d{15}$/.test(value)) {
    const first17 = `${value.slice(0, 6)}19${value.slice(6)}`;
    if (!residentIdBirthDateOk(first17)) return reject('INVALID_ID_NUMBER', 'is a 15-digit number whose birth date does not exist');
    value = first17 + residentIdCheckChar(first17);
    changes.push('id-15-to-18');
  }
  if (!/^\d{17}[\dX]$/.test(value)) return reject('INVALID_ID_NUMBER', 'does not have the shape of an identity number (17 digits then a digit or X, or 15 digits)');
  if (!residentIdBirthDateOk(value)) return reject('INVALID_ID_NUMBER', 'has a birth date that does not exist');
  if (!isValidResidentId(value)) return reject('INVALID_ID_NUMBER', 'has a check character that does not match its first 17 digits');
  return { ok: true, value, changes };
}

const CREDIT_CODE_SHAPE = /^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$/;

/** A unified social credit code (GB 32100-2015); letters are upper-cased. */
export function cleanCreditCode(raw: string): Cleaned {
  const { value: prepared, changes } = prepare(raw);
  const value = prepared.toUpperCase();
  if (value !== prepared) changes.push('upper-case');
  if (!CREDIT_CODE_SHAPE.test(value)) {
    return reject('INVALID_CREDIT_CODE', 'does not have the shape of a credit code (18 characters, digits and capitals other than I, O, S, V, Z, the 3rd to 8th a region code)');
  }
  if (!isValidCreditCode(value)) return reject('INVALID_CREDIT_CODE', 'has a check character that does not match its first 17 characters');
  return { ok: true, value, changes };
}

/**
 * Former names of regions whose code was kept when they were renamed (GB/T 2260 keeps the
 * code of a renamed unit). Bengbu's four urban districts were renamed in 2004, with State
 * Council approval, keeping their codes: 东市区 → 龙子湖区 (340302), 中市区 → 蚌山区 (340303),
 * 西市区 → 禹会区 (340304), 郊区 → 淮上区 (340311). Older records still carry the old names.
 * 郊区 alone is a common name (other cities have one); it maps here because the reference
 * data holds no other, and becomes ambiguous (rejected) if another is ever added.
 */
export const REGION_ALIASES: Readonly<Record<string, string>> = Object.freeze({
  东市区: '340302',
  中市区: '340303',
  西市区: '340304',
  郊区: '340311',
});

/**
 * Codes that GB/T 2260 no longer lists and that have no single successor, so they
 * cannot be mapped automatically: the record needs a person to pick the new region.
 */
export const RETIRED_REGIONS: Readonly<Record<string, { name: string; retired: number; detail: string }>> = Object.freeze({
  '341400': {
    name: '巢湖市',
    retired: 2011,
    detail: 'is the former Chaohu prefecture (巢湖市), abolished in 2011 and split between Hefei (340100), Wuhu (340200) and Ma’anshan (340500)',
  },
});

/** The codes of the units above a region: XXYYZZ → XXYY00 → XX0000. */
function parentsOf(code: string): string[] {
  if (code.endsWith('0000')) return [];
  const province = `${code.slice(0, 2)}0000`;
  if (code.endsWith('00')) return [province];
  return [province, `${code.slice(0, 4)}00`];
}

let regionIndex: Map<string, string | null> | undefined;

/**
 * Every accepted spelling of a region → its code: the name alone, or preceded by the
 * names of its parents (all of them, or only the nearest / only the province). A
 * spelling shared by two codes maps to null: it is ambiguous without its parents.
 */
function regionNames(): Map<string, string | null> {
  if (regionIndex) return regionIndex;
  const regions = referenceData().regions;
  const index = new Map<string, string | null>();
  const add = (spelling: string, code: string): void => {
    const seen = index.get(spelling);
    index.set(spelling, seen === undefined || seen === code ? code : null);
  };
  const names: [string, string][] = [...Object.entries(regions).map(([code, name]): [string, string] => [name, code]), ...Object.entries(REGION_ALIASES)];
  for (const [name, code] of names) {
    const parents = parentsOf(code).map((p) => regions[p] as string | undefined);
    add(name, code);
    if (parents.some((p) => p === undefined)) continue;
    const [province, prefecture] = parents as string[];
    if (province !== undefined) add(province + name, code);
    if (prefecture !== undefined) {
      add(prefecture + name, code);
      add(province + prefecture + name, code);
    }
  }
  regionIndex = index;
  return index;
}

/** A region (GB/T 2260): a current code as is, or a name (with or without its parents' names) → its code. */
export function normalizeRegion(raw: string): Cleaned {
  const { value, changes } = prepare(raw);
  const regions = referenceData().regions;
  if (Object.prototype.hasOwnProperty.call(regions, value)) return { ok: true, value, changes };
  if (Object.prototype.hasOwnProperty.call(RETIRED_REGIONS, value)) return reject('RETIRED_REGION', RETIRED_REGIONS[value].detail);
  const code = regionNames().get(value);
  if (code === null) return reject('UNKNOWN_REGION', 'names more than one region; precede it with the name of its city or province');
  if (code === undefined) return reject('UNKNOWN_REGION', 'is not a current region code or region name');
  return { ok: true, value: code, changes: [...changes, 'mapped'] };
}

/** GB/T 2261.1 spellings; Latin ones are matched case-insensitively. */
const SEX_SPELLINGS: Readonly<Record<string, string>> = Object.freeze({
  男: '1',
  男性: '1',
  m: '1',
  male: '1',
  女: '2',
  女性: '2',
  f: '2',
  female: '2',
  未知: '0',
  未知的性别: '0',
  unknown: '0',
  未说明: '9',
  未说明的性别: '9',
});

/** A sex (GB/T 2261.1): a code 0, 1, 2 or 9 as is, or a name → its code. */
export function normalizeSex(raw: string): Cleaned {
  const { value, changes } = prepare(raw);
  if (Object.prototype.hasOwnProperty.call(referenceData().sexCodes, value)) return { ok: true, value, changes };
  const key = value.toLowerCase();
  if (!Object.prototype.hasOwnProperty.call(SEX_SPELLINGS, key)) return reject('UNKNOWN_SEX', 'is not a sex code (0, 1, 2, 9) or a recognised name');
  return { ok: true, value: SEX_SPELLINGS[key], changes: [...changes, 'mapped'] };
}
