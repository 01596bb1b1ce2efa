import type { DataSource, EntityManager } from 'typeorm';
import { str } from '../shared/loose-read';
import { CATALOGUE_TYPES, localDay, ROLLUP_BY_TYPE, ROLLUP_METRICS, type Fact } from './assessment-metrics';

interface Acc {
  sums: Map<string, number>;
  resources: Map<string, ResourceState>;
  updateDays: Set<string>;
}
const newAcc = (): Acc => ({ sums: new Map(), resources: new Map(), updateDays: new Set() });

interface ResourceState {
  code: string;
  providerUnitId: string;
  format: string | null;
  class: string | null;
  updateCycle: string | null;
  cataloguedDay: string | null;
  publishedDay: string | null;
  deprecatedDay: string | null;
  describedAt: string;
}

const CATALOGUE = new Set<string>(CATALOGUE_TYPES);
const least = (a: string | null, b: string | null) => (a === null ? b : b === null ? a : a < b ? a : b);

/** Every type the assessment reads: what a rebuild replays from the trail. */
export const ASSESSED_TYPES: readonly string[] = [...new Set([...ROLLUP_METRICS.flatMap((m) => m.types), ...CATALOGUE_TYPES])];

/**
 * The assessment's read models, kept from the records as they are written (in the trail's
 * own transaction, so each event counts exactly once) and rebuilt from the trail on demand:
 * daily sums per unit and metric (and the same by month, which period reads sum), the catalogue's state (when each resource was catalogued,
 * published, deprecated; its cycle) and the days each resource was updated. Every change is
 * a sum or a least date, so the order events arrive in does not matter.
 */
export class RollupService {
  constructor(private readonly utcOffsetMinutes: number) {}

  async apply(m: EntityManager, facts: Iterable<Fact>): Promise<void> {
    const acc = newAcc();
    this.collect(facts, acc);
    await this.flush(m, acc);
  }

  private collect(facts: Iterable<Fact>, { sums, resources, updateDays }: Acc): void {
    for (const f of facts) {
      const metrics = ROLLUP_BY_TYPE.get(f.type);
      const catalogue = CATALOGUE.has(f.type);
      if (!metrics && !catalogue) continue;
      const day = localDay(f.occurredAt, this.utcOffsetMinutes);
      for (const metric of metrics ?? []) {
        const key = metric.bucket ? `${metric.key}=${metric.bucket(f)}` : metric.key;
        for (const [unit, amount] of metric.count(f)) {
          const k = `${unit}\u0000${key}\u0000${day}`;
          sums.set(k, (sums.get(k) ?? 0) + amount);
        }
      }
      if (catalogue) this.catalogue(f, day, resources, updateDays);
    }
  }

  private async flush(m: EntityManager, { sums, resources, updateDays }: Acc): Promise<void> {
    if (sums.size) {
      // In key order: concurrent writers lock the same rows in the same order, never in a cycle.
      const rows = [...sums.entries()].filter(([, v]) => v !== 0).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      const cols: [string[], string[], string[], number[]] = [[], [], [], []];
      for (const [k, v] of rows) {
        const [unit, metric, day] = k.split('\u0000');
        cols[0].push(unit);
        cols[1].push(metric);
        cols[2].push(day);
        cols[3].push(v);
      }
      if (rows.length) {
        await m.query(
          `INSERT INTO assessment_rollup (unit_id, metric, day, value) SELECT * FROM unnest($1::text[], $2::text[], $3::date[], $4::bigint[])
           ON CONFLICT (unit_id, metric, day) DO UPDATE SET value = assessment_rollup.value + EXCLUDED.value`,
          cols,
        );
        // The month's row too (what period reads sum); grouped first, so no row is touched twice by one statement.
        await m.query(
          `INSERT INTO assessment_rollup_month (unit_id, metric, month, value)
           SELECT u, k, date_trunc('month', d)::date, sum(v) FROM unnest($1::text[], $2::text[], $3::date[], $4::bigint[]) AS x(u, k, d, v) GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
           ON CONFLICT (unit_id, metric, month) DO UPDATE SET value = assessment_rollup_month.value + EXCLUDED.value`,
          cols,
        );
      }
    }
    for (const r of [...resources.values()].sort((a, b) => (a.code < b.code ? -1 : 1))) {
      await m.query(
        `INSERT INTO assessment_resource AS a (code, provider_unit_id, format, class, update_cycle, catalogued_day, published_day, deprecated_day, described_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (code) DO UPDATE SET
           provider_unit_id = CASE WHEN EXCLUDED.described_at >= a.described_at THEN EXCLUDED.provider_unit_id ELSE a.provider_unit_id END,
           format = CASE WHEN EXCLUDED.described_at >= a.described_at THEN EXCLUDED.format ELSE a.format END,
           class = CASE WHEN EXCLUDED.described_at >= a.described_at THEN EXCLUDED.class ELSE a.class END,
           update_cycle = CASE WHEN EXCLUDED.described_at >= a.described_at THEN EXCLUDED.update_cycle ELSE a.update_cycle END,
           described_at = GREATEST(a.described_at, EXCLUDED.described_at),
           catalogued_day = LEAST(a.catalogued_day, EXCLUDED.catalogued_day),
           published_day = LEAST(a.published_day, EXCLUDED.published_day),
           deprecated_day = LEAST(a.deprecated_day, EXCLUDED.deprecated_day)`,
        [r.code, r.providerUnitId, r.format, r.class, r.updateCycle, r.cataloguedDay, r.publishedDay, r.deprecatedDay, r.describedAt],
      );
    }
    if (updateDays.size) {
      const pairs = [...updateDays].sort().map((p) => p.split('\u0000'));
      await m.query('INSERT INTO assessment_update_day (code, day) SELECT * FROM unnest($1::text[], $2::date[]) ON CONFLICT DO NOTHING', [pairs.map((p) => p[0]), pairs.map((p) => p[1])]);
    }
  }

  private catalogue(f: Fact, day: string, resources: Map<string, ResourceState>, updateDays: Set<string>): void {
    const d = f.data;
    if (f.type === 'data.updated') {
      const code = str(d.resourceCode);
      if (code) updateDays.add(`${code}\u0000${day}`);
      return;
    }
    const code = str(d.code);
    const provider = str(d.providerUnitId);
    if (!code || !provider) return;
    const next: ResourceState = {
      code,
      providerUnitId: provider,
      format: str(d.format),
      class: Array.isArray(d.classification) ? (str(d.classification[0]) ?? null) : null,
      updateCycle: str(d.updateCycle),
      cataloguedDay: day,
      publishedDay: f.type === 'resource.published' ? day : null,
      deprecatedDay: f.type === 'resource.deprecated' ? day : null,
      describedAt: f.occurredAt,
    };
    const known = resources.get(code);
    if (!known) return void resources.set(code, next);
    const newer = next.describedAt >= known.describedAt ? next : known;
    resources.set(code, {
      ...newer,
      cataloguedDay: least(known.cataloguedDay, next.cataloguedDay),
      publishedDay: least(known.publishedDay, next.publishedDay),
      deprecatedDay: least(known.deprecatedDay, next.deprecatedDay),
      describedAt: newer.describedAt,
    });
  }

  /**
   * Recomputes every read model from the trail, in one transaction: what is read while it
   * runs is the old figures, never half of the new. Returns the records replayed.
   */
  async rebuild(db: DataSource, pageSize = 5_000): Promise<number> {
    return db.transaction(async (m) => {
      await m.query('LOCK TABLE assessment_rollup, assessment_rollup_month, assessment_resource, assessment_update_day IN EXCLUSIVE MODE');
      // Everything is summed in memory first (a year is some 10^5 sums), then written once.
      const acc = newAcc();
      // Sums and least dates do not depend on order: one pass over the trail through a cursor.
      await m.query('DECLARE assessment_replay NO SCROLL CURSOR FOR SELECT event_id, type, occurred_at, data FROM audit_record WHERE type = ANY($1::text[])', [ASSESSED_TYPES]);
      let replayed = 0;
      for (;;) {
        const rows: { event_id: string; type: string; occurred_at: Date; data: Record<string, unknown> }[] = await m.query(`FETCH ${pageSize} FROM assessment_replay`);
        if (!rows.length) break;
        this.collect(
          rows.map((r) => ({ id: r.event_id, type: r.type, occurredAt: r.occurred_at.toISOString(), data: r.data })),
          acc,
        );
        replayed += rows.length;
      }
      await m.query('CLOSE assessment_replay');
      for (const t of ['assessment_rollup', 'assessment_rollup_month', 'assessment_resource', 'assessment_update_day']) await m.query(`DELETE FROM ${t}`);
      await this.flush(m, acc);
      return replayed;
    });
  }
}
