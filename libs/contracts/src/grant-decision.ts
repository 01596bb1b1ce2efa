import type { GrantStatus, ServiceMode } from './enums';
import type { GrantView } from './views/grant.view';

/** What the decision reads of a grant, prepared once when a cache takes the grant in. */
export interface DecidableGrant {
  id: string;
  status: GrantStatus;
  modes: readonly ServiceMode[];
  items: ReadonlySet<string>;
  validFromMs: number;
  validToMs: number;
}

export function decidable(g: Pick<GrantView, 'id' | 'status' | 'modes' | 'items' | 'validFrom' | 'validTo'>): DecidableGrant {
  return { id: g.id, status: g.status, modes: g.modes, items: new Set(g.items), validFromMs: Date.parse(g.validFrom), validToMs: Date.parse(g.validTo) };
}

export const DENIAL_CODES = ['NO_GRANT', 'MODE_NOT_GRANTED', 'GRANT_NOT_ACTIVE', 'GRANT_NOT_YET_VALID', 'GRANT_EXPIRED', 'ITEM_NOT_GRANTED'] as const;
export type DenialCode = (typeof DENIAL_CODES)[number];

export type GrantDecision<G extends DecidableGrant> = { ok: true; grant: G } | { ok: false; code: DenialCode; detail: string; item?: string; grant?: G };

/**
 * The one grant decision (§5): the gateway runs it before forwarding, data-query
 * again before answering (zero trust: two checks, one rule). It picks the caller
 * unit's grant that allows this call, or names the first condition that fails, in
 * the order a caller can act on: no grant; mode; state; validity window; items.
 * It looks only at the caller's own grants, so a refusal reveals nothing of another
 * unit's. Among several grants that would do, the newest (highest id: ids are
 * UUIDv7, ordered by issue time) wins, so the answer never depends on the order a
 * cache holds them in. `items`: the items asked for (none: any granted item will do).
 */
export function decideGrant<G extends DecidableGrant>(grants: readonly G[], mode: ServiceMode, items: readonly string[] | undefined, now: number): GrantDecision<G> {
  if (!grants.length) return { ok: false, code: 'NO_GRANT', detail: 'Your unit holds no grant for this resource; file a request for it.' };
  const withMode = grants.filter((g) => g.modes.includes(mode));
  if (!withMode.length) return { ok: false, code: 'MODE_NOT_GRANTED', detail: `Your unit’s grant for this resource does not include the ${mode} mode.`, grant: newest(grants) };
  const active = withMode.filter((g) => g.status === 'active');
  if (!active.length) {
    const g = newest(withMode);
    return g.status === 'expired'
      ? { ok: false, code: 'GRANT_EXPIRED', detail: 'Your unit’s grant for this resource has expired.', grant: g }
      : { ok: false, code: 'GRANT_NOT_ACTIVE', detail: `Your unit’s grant for this resource is ${g.status}.`, grant: g };
  }
  const inWindow = active.filter((g) => g.validFromMs <= now && now < g.validToMs);
  if (!inWindow.length) {
    const g = newest(active);
    return g.validFromMs > now
      ? { ok: false, code: 'GRANT_NOT_YET_VALID', detail: `Your unit’s grant for this resource is valid from ${new Date(g.validFromMs).toISOString()}.`, grant: g }
      : { ok: false, code: 'GRANT_EXPIRED', detail: `Your unit’s grant for this resource ended at ${new Date(g.validToMs).toISOString()}.`, grant: g };
  }
  if (!items?.length) return { ok: true, grant: newest(inWindow) };
  const covering = inWindow.filter((g) => items.every((i) => g.items.has(i)));
  if (covering.length) return { ok: true, grant: newest(covering) };
  const g = newest(inWindow);
  const missing = items.find((i) => !g.items.has(i)) as string;
  return { ok: false, code: 'ITEM_NOT_GRANTED', detail: `Your unit’s grant does not cover the item ${missing}.`, item: missing, grant: g };
}

function newest<G extends DecidableGrant>(gs: readonly G[]): G {
  return gs.reduce((a, b) => (b.id > a.id ? b : a));
}
