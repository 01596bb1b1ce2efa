import type { Pool } from 'pg';
import { requireRole, type Principal } from '@gdx/auth';
import { NotFoundError } from '@gdx/errors';
import type { DeliveryTraceRequest, DeliveryTraceResult } from '@gdx/contracts';
import type { DatasetRegistry } from '../datasets/dataset-registry';
import type { GrantCache } from '../grants/grant-cache';
import type { QueryPlanner } from '../query/query-planner';
import { q, SYS } from '../datasets/resource-model';
import { decodePullCursor } from './pull-cursor';
import { recordSql } from './sql-presenter';

type TracedDelivery = DeliveryTraceRequest['deliveries'][number];
type TraceResult = DeliveryTraceResult['results'][number];

/**
 * Which deliveries could have produced a sample of leaked rows (Art. 19): for each delivery,
 * the rows of its slice (its grant's filter, its change-sequence range) presented as that
 * delivery presented them (its items, the grant's masking: the same SQL as the pull), compared
 * with the sample line for line. Two limits, said in the answer's documentation: a row changed
 * since the delivery is compared in its present version, and the grant's present terms are used.
 * Office auditors only; it reads whole slices, so it is an investigation tool, not a hot path.
 */
export class DeliveryTrace {
  constructor(
    private readonly pool: Pool,
    private readonly datasets: DatasetRegistry,
    private readonly grants: GrantCache,
    private readonly planner: QueryPlanner,
  ) {}

  async trace(principal: Principal, code: string, deliveries: TracedDelivery[], rows: Record<string, unknown>[]): Promise<TraceResult[]> {
    requireRole(principal, 'office_auditor', 'office_admin');
    const ds = this.datasets.get(code);
    if (!ds) throw new NotFoundError('The resource', 'RESOURCE_NOT_FOUND');
    const results: TraceResult[] = [];
    for (const d of deliveries) {
      const grant = this.grants.get(d.grantId);
      if (!grant || grant.resourceCode !== code) {
        results.push({ deliveryId: d.deliveryId, matched: 0, unchecked: 'the grant is not known here' });
        continue;
      }
      if (!d.items.length || d.items.some((k) => !ds.itemsByKey.has(k))) {
        results.push({ deliveryId: d.deliveryId, matched: 0, unchecked: 'the resource no longer has every item delivered' });
        continue;
      }
      // The sample as that delivery would have written each row: its items in its order, JSON as the pull writes it.
      const lines = [...new Set(rows.map((r) => JSON.stringify(Object.fromEntries(d.items.map((k) => [k, r[k] ?? null])))))];
      const to = decodePullCursor(code, d.cursorTo);
      const from = d.cursorFrom ? decodePullCursor(code, d.cursorFrom) : null;
      const values: unknown[] = [lines, to.seq];
      const p = (v: unknown, type: string) => {
        values.push(v);
        return `$${values.length}::${type}`;
      };
      // An incremental delivery covered the sequences after its start; a full one (or a resumed full one) everything up to its end.
      const after = from && !from.scan ? [`${q(SYS.changeSeq)} > ${p(from.seq, 'bigint')}`] : [];
      const clauses = [`${q(SYS.changeSeq)} <= $2::bigint`, `${q(SYS.deletedAt)} IS NULL`, ...after, ...this.planner.rowFilterSql(ds, grant.rowFilter, p)];
      const record = recordSql('ndjson', ds, grant, d.items, 'false', false);
      const { rows: found } = await this.pool.query<{ matched: number }>(
        `SELECT count(DISTINCT record)::int AS matched FROM (SELECT ${record} AS record FROM ${ds.table} WHERE ${clauses.join(' AND ')}) slice WHERE record = ANY($1::text[])`,
        values,
      );
      results.push({ deliveryId: d.deliveryId, matched: found[0].matched });
    }
    return results;
  }
}
