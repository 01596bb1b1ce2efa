import type { Pool } from 'pg';
import { grantDenied } from '../grants/grant-denial';
import { actorOf, type Principal } from '@gdx/auth';
import { decideGrant, type QueryBody, type QueryResult } from '@gdx/contracts';
import { AppError, ForbiddenError, ValidationError } from '@gdx/errors';
import type { DatasetRegistry, DatasetRuntime } from '../datasets/dataset-registry';
import { RESULT_TYPES } from '../datasets/item-values';
import type { GrantCache, GrantEntry } from '../grants/grant-cache';
import { checkItemsKnown, presentation, projection } from './row-presenter';
import type { QueryPlanner } from './query-planner';
import type { PointBatcher } from './point-batcher';
import type { KeyDigester } from './key-digest';
import type { AuditEmitter, QueryAuditType } from './audit-emitter';

export interface QueryCall {
  principal: Principal;
  code: string;
  body: QueryBody;
  /** Set when the body failed schema validation: the call is still audited, as denied. */
  invalid?: string;
  requestId: string;
  /** The original client as the gateway saw it (x-forwarded-for), else the peer. */
  sourceAddress: string;
  peerAddress: string;
  /** Milliseconds since the request arrived. */
  elapsedMs: () => number;
  traceparent?: string;
}

/**
 * Interface queries (接口查询). The hot path touches memory (dataset, grant),
 * one prepared statement (shared by concurrent row-key lookups) and one append
 * to the audit stream (shared by concurrent queries): no ORM, no dataset or
 * grant reads.
 * Every call, answered or refused, leaves exactly one audit event before the
 * answer is released.
 */
export class QueryService {
  constructor(
    private readonly pool: Pool,
    private readonly datasets: DatasetRegistry,
    private readonly grants: GrantCache,
    private readonly planner: QueryPlanner,
    private readonly points: PointBatcher,
    private readonly audit: AuditEmitter,
    private readonly pageLimit: number,
    private readonly digester?: KeyDigester,
  ) {}

  async query(call: QueryCall): Promise<QueryResult> {
    let ds: DatasetRuntime | undefined;
    let grant: GrantEntry | null = null;
    let items: string[] = [];
    try {
      if (call.invalid) throw new ValidationError(call.invalid, { field: 'body' });
      ds = this.datasets.served(call.code);
      // An item the resource does not have is the caller's mistake whatever its grants: 400, before the decision.
      checkItemsKnown(ds, call.body.items, 'body.items');
      // The one decision the gateway made too (zero trust: checked again, by the same rule).
      const decision = decideGrant(this.grants.forCaller(call.principal.unitId, ds.code), 'interface', call.body.items, Date.now());
      grant = decision.grant ?? null;
      if (!decision.ok) throw grantDenied(decision, 'body.items');
      const g = decision.grant;
      this.checkConditionsGranted(ds, g, call.body.where);
      items = projection(ds, g, call.body.items);
      const limit = Math.min(call.body.limit ?? 20, this.pageLimit);
      const plan = this.planner.plan(ds, call.body.where, g.rowFilter, call.body.cursor, limit);
      const rows =
        plan.kind === 'point'
          ? await this.points.lookup(plan)
          : ((await this.pool.query({ name: plan.name, text: plan.text, values: plan.values, rowMode: 'array', types: RESULT_TYPES })).rows as unknown[][]);
      const result = this.shape(ds, g, items, rows, limit);
      await this.record(call, 'query.executed', ds, grant, items, result.items.length, 200);
      return result;
    } catch (err) {
      const status = err instanceof AppError ? err.status : 500;
      // An audit outage is itself the answer (503); anything else is recorded as a refusal first.
      if (err instanceof AppError && err.code === 'AUDIT_UNAVAILABLE') throw err;
      await this.record(call, 'query.denied', ds, grant, items, 0, status, err instanceof AppError ? err.code : 'INTERNAL');
      throw err;
    }
  }

  /** A condition on an item the grant does not cover would let the caller infer its values: conditions only on granted items. */
  private checkConditionsGranted(ds: DatasetRuntime, g: GrantEntry, where: QueryBody['where']): void {
    for (const key of Object.keys(where ?? {})) {
      if (ds.itemsByKey.has(key) && !g.items.has(key))
        throw new ForbiddenError(`Your unit’s grant does not cover ${key}: conditions may only name granted items.`, 'ITEM_NOT_GRANTED', { grantId: g.id, field: `body.where.${key}`, item: key });
    }
  }

  private shape(ds: DatasetRuntime, g: GrantEntry, items: string[], rows: unknown[][], limit: number): QueryResult {
    // Masked unless the grant lets the item leave in clear (§6).
    const columns = presentation(ds, g, items);
    const keyIndex = ds.keyIndex;
    const page = rows.length > limit ? rows.slice(0, limit) : rows;
    const out = page.map((row) => {
      const o: Record<string, unknown> = {};
      for (let j = 0; j < columns.length; j++) {
        const { column, present } = columns[j];
        o[items[j]] = present ? present(row[column]) : row[column];
      }
      return o;
    });
    const nextCursor = rows.length > limit ? this.planner.encodeCursor(page[page.length - 1][keyIndex]) : null;
    return { items: out, nextCursor, grantId: g.id };
  }

  private record(call: QueryCall, type: QueryAuditType, ds: DatasetRuntime | undefined, grant: GrantEntry | null, items: string[], rowCount: number, status: number, reason?: string): Promise<void> {
    const actor = actorOf(call.principal);
    return this.audit.emit(
      type,
      actor,
      call.code,
      {
        unitId: call.principal.unitId,
        ...(actor.accountId ? { accountId: actor.accountId } : { clientId: actor.clientId }),
        grantId: grant?.id ?? null,
        resourceCode: call.code,
        providerUnitId: ds?.providerUnitId ?? null,
        mode: 'interface',
        items,
        rowCount,
        result: type === 'query.executed' ? 'allowed' : 'denied',
        ...(reason ? { reason } : {}),
        status,
        latencyMs: Math.round(call.elapsedMs() * 1000) / 1000,
        requestId: call.requestId,
        sourceAddress: call.sourceAddress,
        peerAddress: call.peerAddress,
        via: 'data-query',
        ...(this.digester && call.body?.where ? { keys: this.digester.keys(call.body.where) } : {}),
      },
      call.traceparent,
    );
  }
}
