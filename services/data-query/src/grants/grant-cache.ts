import type { Pool } from 'pg';
import type { GrantStatus, RowCondition, ServiceMode } from '../entities/grant-copy.entity';

export interface CachedGrant {
  id: string;
  consumerUnitId: string;
  providerUnitId: string;
  resourceCode: string;
  items: ReadonlySet<string>;
  rowFilter: { all: RowCondition[] } | null;
  modes: readonly ServiceMode[];
  validFrom: number | null;
  validTo: number | null;
  status: GrantStatus;
  version: number;
  maskPersonal: boolean;
}

interface GrantRow {
  id: string;
  consumer_unit_id: string;
  provider_unit_id: string;
  resource_code: string;
  items: string[];
  row_filter: { all: RowCondition[] } | null;
  modes: ServiceMode[];
  valid_from: Date | null;
  valid_to: Date | null;
  status: GrantStatus;
  version: number;
  mask_personal: boolean;
}

const SELECT = 'SELECT id, consumer_unit_id, provider_unit_id, resource_code, items, row_filter, modes, valid_from, valid_to, status, version, mask_personal FROM grant_copy';

function cachedOf(r: GrantRow): CachedGrant {
  return {
    id: r.id,
    consumerUnitId: r.consumer_unit_id,
    providerUnitId: r.provider_unit_id,
    resourceCode: r.resource_code,
    items: new Set(r.items),
    rowFilter: r.row_filter,
    modes: r.modes,
    validFrom: r.valid_from ? r.valid_from.getTime() : null,
    validTo: r.valid_to ? r.valid_to.getTime() : null,
    status: r.status,
    version: r.version,
    maskPersonal: r.mask_personal,
  };
}

const keyOf = (unitId: string, code: string) => `${unitId}|${code}`;

/**
 * The grants of every consumer, in memory, indexed by (consumer unit, resource):
 * a query looks up its grants without touching PostgreSQL. The table is the
 * truth; this follows it through change notifications and periodic reloads.
 */
export class GrantCache {
  private byId = new Map<string, CachedGrant>();
  private byPair = new Map<string, CachedGrant[]>();

  constructor(private readonly pool: Pool) {}

  /** Every grant the unit holds for the resource, whatever its state (the caller decides). */
  forCaller(unitId: string, code: string): readonly CachedGrant[] {
    return this.byPair.get(keyOf(unitId, code)) ?? [];
  }

  get(id: string): CachedGrant | undefined {
    return this.byId.get(id);
  }

  async loadAll(): Promise<void> {
    const { rows } = await this.pool.query<GrantRow>(SELECT);
    const byId = new Map<string, CachedGrant>();
    const byPair = new Map<string, CachedGrant[]>();
    for (const r of rows) {
      const g = cachedOf(r);
      byId.set(g.id, g);
      const k = keyOf(g.consumerUnitId, g.resourceCode);
      byPair.set(k, [...(byPair.get(k) ?? []), g]);
    }
    this.byId = byId;
    this.byPair = byPair;
  }

  async reload(id: string): Promise<void> {
    const { rows } = await this.pool.query<GrantRow>(`${SELECT} WHERE id = $1`, [id]);
    this.remove(id);
    if (rows[0]) this.put(cachedOf(rows[0]));
  }

  private put(g: CachedGrant): void {
    this.byId.set(g.id, g);
    const k = keyOf(g.consumerUnitId, g.resourceCode);
    this.byPair.set(k, [...(this.byPair.get(k) ?? []), g]);
  }

  private remove(id: string): void {
    const old = this.byId.get(id);
    if (!old) return;
    this.byId.delete(id);
    const k = keyOf(old.consumerUnitId, old.resourceCode);
    const rest = (this.byPair.get(k) ?? []).filter((g) => g.id !== id);
    if (rest.length) this.byPair.set(k, rest);
    else this.byPair.delete(k);
  }
}
