import type { Pool } from 'pg';
import { decidable, type DecidableGrant, type GrantStatus, type RowFilter, type ServiceMode } from '@gdx/contracts';

/** A grant as the query path uses it: what the one decision reads, and what an answer then applies. */
export type GrantEntry = DecidableGrant & {
  consumerUnitId: string;
  providerUnitId: string;
  resourceCode: string;
  rowFilter: RowFilter | null;
  /** Calls per day (interface) or rows per day (data call). */
  dailyQuota: number;
  version: number;
  /** What the grant lets leave in clear (see query/masking.ts isClear). */
  clearItems: ReadonlySet<string>;
  clearLegalBasis: string | null;
};

interface GrantRow {
  id: string;
  consumer_unit_id: string;
  provider_unit_id: string;
  resource_code: string;
  items: string[];
  row_filter: RowFilter | null;
  daily_quota: number | null;
  modes: ServiceMode[];
  valid_from: Date | null;
  valid_to: Date | null;
  status: GrantStatus;
  version: number;
  clear_items: string[] | null;
  clear_legal_basis: string | null;
}

const SELECT =
  'SELECT id, consumer_unit_id, provider_unit_id, resource_code, items, row_filter, daily_quota, modes, valid_from, valid_to, status, version, clear_items, clear_legal_basis FROM grant_copy';

// A row kept before grants had to carry their validity is open-ended, as it was then.
const EARLIEST = new Date(-8.64e15);
const LATEST = new Date(8.64e15);

function entryOf(r: GrantRow): GrantEntry {
  return {
    ...decidable({ id: r.id, status: r.status, modes: r.modes, items: r.items, validFrom: (r.valid_from ?? EARLIEST).toISOString(), validTo: (r.valid_to ?? LATEST).toISOString() }),
    consumerUnitId: r.consumer_unit_id,
    providerUnitId: r.provider_unit_id,
    resourceCode: r.resource_code,
    rowFilter: r.row_filter,
    dailyQuota: r.daily_quota ?? 0,
    version: r.version,
    clearItems: new Set(r.clear_items ?? []),
    clearLegalBasis: r.clear_legal_basis,
  };
}

const keyOf = (unitId: string, code: string) => `${unitId}|${code}`;

/**
 * The grants of every consumer, in memory, indexed by (consumer unit, resource):
 * a query looks up its grants without touching PostgreSQL. The table is the
 * truth; this follows it through change notifications and periodic reloads.
 */
export class GrantCache {
  private byId = new Map<string, GrantEntry>();
  private byPair = new Map<string, GrantEntry[]>();

  constructor(private readonly pool: Pool) {}

  /** Every grant the unit holds for the resource, whatever its state (the decision picks). */
  forCaller(unitId: string, code: string): readonly GrantEntry[] {
    return this.byPair.get(keyOf(unitId, code)) ?? [];
  }

  get(id: string): GrantEntry | undefined {
    return this.byId.get(id);
  }

  async loadAll(): Promise<void> {
    const { rows } = await this.pool.query<GrantRow>(SELECT);
    const byId = new Map<string, GrantEntry>();
    const byPair = new Map<string, GrantEntry[]>();
    for (const r of rows) {
      const g = entryOf(r);
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
    if (rows[0]) this.put(entryOf(rows[0]));
  }

  private put(g: GrantEntry): void {
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
