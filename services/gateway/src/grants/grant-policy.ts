import type { CachedGrant, ServiceMode } from './grant-cache';

export type DenialCode = 'NO_GRANT' | 'MODE_NOT_GRANTED' | 'GRANT_NOT_ACTIVE' | 'GRANT_NOT_YET_VALID' | 'GRANT_EXPIRED' | 'ITEM_NOT_GRANTED';

export type Decision = { ok: true; grant: CachedGrant } | { ok: false; code: DenialCode; detail: string; item?: string; grantId?: string };

/**
 * Picks the caller's grant that allows this call, or names the first condition that
 * fails, looking only at the caller's own grants: the answer never reveals anything
 * about another unit's grants.
 */
export function decide(grants: CachedGrant[], mode: ServiceMode, items: string[] | undefined, now = Date.now()): Decision {
  if (!grants.length) return { ok: false, code: 'NO_GRANT', detail: 'Your unit holds no grant for this resource.' };
  const withMode = grants.filter((g) => g.modes.includes(mode));
  if (!withMode.length) return { ok: false, code: 'MODE_NOT_GRANTED', detail: `Your unit's grant does not include the ${mode} mode.`, grantId: newest(grants).id };
  const active = withMode.filter((g) => g.status === 'active');
  if (!active.length) {
    const g = newest(withMode);
    return { ok: false, code: g.status === 'expired' ? 'GRANT_EXPIRED' : 'GRANT_NOT_ACTIVE', detail: `Your unit's grant is ${g.status}.`, grantId: g.id };
  }
  const inWindow = active.filter((g) => Date.parse(g.validFrom) <= now && now < Date.parse(g.validTo));
  if (!inWindow.length) {
    const g = newest(active);
    return Date.parse(g.validFrom) > now
      ? { ok: false, code: 'GRANT_NOT_YET_VALID', detail: `Your unit's grant is valid from ${g.validFrom}.`, grantId: g.id }
      : { ok: false, code: 'GRANT_EXPIRED', detail: `Your unit's grant ended at ${g.validTo}.`, grantId: g.id };
  }
  if (!items?.length) return { ok: true, grant: newest(inWindow) };
  const covering = inWindow.filter((g) => items.every((i) => g.items.includes(i)));
  if (covering.length) return { ok: true, grant: newest(covering) };
  const g = newest(inWindow);
  const missing = items.find((i) => !g.items.includes(i)) as string;
  return { ok: false, code: 'ITEM_NOT_GRANTED', detail: `The item ${missing} is not in your unit's grant.`, item: missing, grantId: g.id };
}

function newest(gs: CachedGrant[]): CachedGrant {
  return gs.reduce((a, b) => (b.version > a.version || (b.version === a.version && b.validTo > a.validTo) ? b : a));
}
