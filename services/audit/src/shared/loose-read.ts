/** Reading event data that arrived unvalidated (the audit consumers keep whatever reaches them): a field of another shape is absent. */
export const str = (v: unknown): string | null => (typeof v === 'string' && v.length ? v : null);
export const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
