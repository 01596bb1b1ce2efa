import { types, type Pool } from 'pg';
import { actorOf, type Principal } from '@gdx/auth';
import { AppError, BadRequestError, ForbiddenError, NotFoundError, ValidationError } from '@gdx/errors';
import type { DatasetRegistry, DatasetRuntime } from '../datasets/dataset-registry';
import type { CachedGrant, GrantCache } from '../grants/grant-cache';
import { maskerOf, type Masker } from './masking';
import type { QueryPlanner } from './query-planner';
import type { PointBatcher } from './point-batcher';
import type { AuditEmitter, QueryAuditData } from './audit-emitter';

export interface QueryBody {
  where: Record<string, unknown>;
  items?: string[];
  limit?: number;
  cursor?: string;
}

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

export interface QueryResult {
  items: Record<string, unknown>[];
  nextCursor: string | null;
  grantId: string;
}

/** Dates as written, timestamps in ISO form, numbers as numbers where exact: what a JSON consumer expects. */
const PARSERS: Record<number, (v: string) => unknown> = {
  1082: (v) => v,
  1184: (v) => new Date(v).toISOString(),
  1700: (v) => Number(v),
  20: (v) => (Number.isSafeInteger(Number(v)) ? Number(v) : v),
};
export const RESULT_TYPES = { getTypeParser: (oid: number, format?: 'text' | 'binary') => PARSERS[oid] ?? types.getTypeParser(oid, format ?? 'text') };

/** Why a grant does not let this call through, checked in the order a caller can act on. */
function grantDecision(grants: readonly CachedGrant[], now: number): { error: AppError; grant: CachedGrant | null } | { grant: CachedGrant } {
  if (!grants.length) return { error: new ForbiddenError('Your unit holds no grant for this resource; file a request for it.', 'NO_GRANT'), grant: null };
  const modal = grants.filter((g) => g.modes.includes('interface'));
  if (!modal.length) return { error: new ForbiddenError('Your unit’s grant for this resource does not include interface queries.', 'MODE_NOT_GRANTED'), grant: grants[0] };
  const usable = modal.find((g) => g.status === 'active' && (g.validFrom === null || g.validFrom <= now) && (g.validTo === null || now < g.validTo));
  if (usable) return { grant: usable };
  const expired = modal.find((g) => g.status === 'expired' || (g.status === 'active' && g.validTo !== null && now >= g.validTo));
  if (expired) return { error: new ForbiddenError('Your unit’s grant for this resource has expired.', 'GRANT_EXPIRED', { grantId: expired.id }), grant: expired };
  const pending = modal.find((g) => g.status === 'active');
  if (pending) return { error: new ForbiddenError('Your unit’s grant for this resource is not valid yet.', 'GRANT_NOT_ACTIVE', { grantId: pending.id, grantStatus: 'not_yet_valid' }), grant: pending };
  const g = modal[0];
  return { error: new ForbiddenError(`Your unit’s grant for this resource is ${g.status}.`, 'GRANT_NOT_ACTIVE', { grantId: g.id, grantStatus: g.status }), grant: g };
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
  private readonly maskers = new WeakMap<DatasetRuntime, (Masker | null)[]>();

  constructor(
    private readonly pool: Pool,
    private readonly datasets: DatasetRegistry,
    private readonly grants: GrantCache,
    private readonly planner: QueryPlanner,
    private readonly points: PointBatcher,
    private readonly audit: AuditEmitter,
    private readonly pageLimit: number,
  ) {}

  async query(call: QueryCall): Promise<QueryResult> {
    let ds: DatasetRuntime | undefined;
    let grant: CachedGrant | null = null;
    let items: string[] = [];
    try {
      if (call.invalid) throw new ValidationError(call.invalid, { field: 'body' });
      ds = this.datasets.get(call.code);
      if (!ds) throw new NotFoundError('The resource', 'RESOURCE_NOT_FOUND');
      if (ds.status !== 'published') throw new AppError(410, 'RESOURCE_DEPRECATED', 'Gone', 'The resource is deprecated and no longer served.');
      const decision = grantDecision(this.grants.forCaller(call.principal.unitId, ds.code), Date.now());
      grant = decision.grant;
      if ('error' in decision) throw decision.error;
      const g = decision.grant;
      items = this.projection(ds, g, call.body.items);
      const limit = Math.min(call.body.limit ?? 20, this.pageLimit);
      const plan = this.planner.plan(ds, call.body.where, g.rowFilter, call.body.cursor, limit);
      const rows = plan.kind === 'point' ? await this.points.lookup(plan) : ((await this.pool.query({ name: plan.name, text: plan.text, values: plan.values, rowMode: 'array', types: RESULT_TYPES })).rows as unknown[][]);
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

  /** The requested items, all within the grant; none requested means every granted item the resource still has. */
  private projection(ds: DatasetRuntime, g: CachedGrant, requested: string[] | undefined): string[] {
    if (!requested?.length) {
      const items = ds.items.filter((i) => g.items.has(i.key)).map((i) => i.key);
      if (!items.length) throw new ForbiddenError('Your unit’s grant covers no item this resource still has.', 'ITEM_NOT_GRANTED');
      return items;
    }
    for (const [i, key] of requested.entries()) {
      if (!ds.itemsByKey.has(key)) throw new BadRequestError('UNKNOWN_ITEM', `${key} is not an item of this resource.`, { field: `body.items[${i}]`, item: key });
      if (!g.items.has(key)) throw new ForbiddenError(`Your unit’s grant does not cover the item ${key}.`, 'ITEM_NOT_GRANTED', { field: `body.items[${i}]`, item: key });
    }
    return [...new Set(requested)];
  }

  private shape(ds: DatasetRuntime, g: CachedGrant, items: string[], rows: unknown[][], limit: number): QueryResult {
    let maskers = this.maskers.get(ds);
    if (!maskers) {
      maskers = ds.items.map(maskerOf);
      this.maskers.set(ds, maskers);
    }
    const picks = items.map((key) => ds.indexByKey.get(key)!);
    const keyIndex = ds.keyIndex;
    const page = rows.length > limit ? rows.slice(0, limit) : rows;
    const out = page.map((row) => {
      const o: Record<string, unknown> = {};
      for (let j = 0; j < picks.length; j++) {
        const c = picks[j];
        const mask = g.maskPersonal ? maskers[c] : null;
        o[items[j]] = mask ? mask(row[c]) : row[c];
      }
      return o;
    });
    const nextCursor = rows.length > limit ? this.planner.encodeCursor(page[page.length - 1][keyIndex]) : null;
    return { items: out, nextCursor, grantId: g.id };
  }

  private record(call: QueryCall, type: 'query.executed' | 'query.denied', ds: DatasetRuntime | undefined, grant: CachedGrant | null, items: string[], rowCount: number, status: number, reason?: string): Promise<void> {
    const actor = actorOf(call.principal);
    const data: QueryAuditData = {
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
    };
    return this.audit.emit(type, actor, call.code, data, call.traceparent);
  }
}
