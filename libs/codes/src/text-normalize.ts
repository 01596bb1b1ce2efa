/**
 * Full-width (全角) to half-width (半角) folding: U+FF01..U+FF5E map to U+0021..U+007E
 * and the ideographic space U+3000 maps to an ASCII space. Both tables are plain BMP
 * strings of equal length, so they can be passed straight to PostgreSQL's
 * `translate(x, FULL_WIDTH, HALF_WIDTH)` and give the same result as toHalfWidth.
 */
function table(from: number, to: number, extra: string): string {
  let s = '';
  for (let c = from; c <= to; c++) s += String.fromCharCode(c);
  return s + extra;
}

export const FULL_WIDTH: string = table(0xff01, 0xff5e, '\u3000');
export const HALF_WIDTH: string = table(0x21, 0x7e, ' ');

const FULL_WIDTH_CHAR = /[\uFF01-\uFF5E\u3000]/g;

export function toHalfWidth(s: string): string {
  return s.replace(FULL_WIDTH_CHAR, (c) => (c === '\u3000' ? ' ' : String.fromCharCode(c.charCodeAt(0) - 0xfee0)));
}

export interface TextNormalization {
  trim?: boolean;
  halfWidth?: boolean;
  case?: 'lower' | 'upper';
}

/** Half-width first, then trim (so a leading or trailing U+3000 goes too), then case. */
export function normalizeText(s: string, n: TextNormalization): string {
  let out = s;
  if (n.halfWidth) out = toHalfWidth(out);
  if (n.trim) out = out.trim();
  if (n.case === 'lower') out = out.toLowerCase();
  else if (n.case === 'upper') out = out.toUpperCase();
  return out;
}
