import type { DataSource, EntityManager } from 'typeorm';
import { hasRole, isOffice, requireRole, type Principal } from '@gdx/auth';
import { ForbiddenError, NotFoundError, ValidationError } from '@gdx/errors';
import { streamKey, type Emit, type EventPublisher } from '@gdx/events';
import { createEvent, type DeclaredEvent, type GrantStatus, type GrantView, type RowFilter, type ServiceMode } from '@gdx/contracts';
import { uuidv7 } from '@gdx/database';
import type { Redis } from 'ioredis';
import { Grant } from '../entities/grant.entity';
import { Transition } from '../entities/transition.entity';
import type { Clock } from '../shared/clock';
import { assertTransition, eventActor, recordTransition, type ChangeActor, type GrantAction } from '../shared/state-machine';
import { invalidCursor } from '@gdx/service-kit';

/** A grant as callers and the gateway's cache see it; grant events carry exactly this. */
export function viewGrant(g: Grant): GrantView {
  return {
    id: g.id,
    consumerUnitId: g.consumerUnitId,
    providerUnitId: g.providerUnitId,
    resourceCode: g.resourceCode,
    items: g.items,
    rowFilter: g.rowFilter,
    modes: g.modes,
    rateLimitPerSecond: g.rateLimitPerSecond,
    dailyQuota: g.dailyQuota,
    validFrom: g.validFrom.toISOString(),
    validTo: g.validTo.toISOString(),
    purpose: g.purpose,
    requestId: g.requestId,
    status: g.status,
    statusReason: g.statusReason,
    version: g.version,
    clearItems: g.clearItems,
    clearLegalBasis: g.clearLegalBasis,
    supersededBy: g.supersededBy,
  };
}

export interface IssueGrant {
  requestId: string;
  consumerUnitId: string;
  providerUnitId: string;
  resourceCode: string;
  items: string[];
  /** Among `items`; secret ones only with `clearLegalBasis` (the request workflow checks this). */
  clearItems: string[];
  clearLegalBasis: string | null;
  rowFilter: RowFilter | null;
  modes: ServiceMode[];
  rateLimitPerSecond: number;
  dailyQuota: number;
  validFrom: Date;
  validTo: Date;
  purpose: string;
}

export interface GrantFilter {
  consumer?: string;
  provider?: string;
  resourceCode?: string;
  status?: GrantStatus;
  active?: boolean;
  limit?: number;
  cursor?: string;
}

const ACTION_EVENT = { suspend: 'grant.suspended', resume: 'grant.resumed', revoke: 'grant.revoked', expire: 'grant.expired', supersede: 'grant.superseded' } as const satisfies Record<
  GrantAction,
  DeclaredEvent['type']
>;
const ACTION_STATUS: Record<GrantAction, GrantStatus> = { suspend: 'suspended', resume: 'active', revoke: 'revoked', expire: 'expired', supersede: 'superseded' };
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function canSeeGrant(p: Principal, g: Grant): boolean {
  return isOffice(p) || p.unitId === g.consumerUnitId || p.unitId === g.providerUnitId;
}

/**
 * Grants: issued by the request workflow, then suspended, resumed or revoked by the
 * provider or the office, expired by the sweep, and superseded by a newer grant for
 * the same consumer unit, resource and mode. Every change bumps `version`,
 * records a transition and emits the whole grant, so the gateway's cache never has
 * to call back.
 */
export class GrantService {
  constructor(
    private readonly db: DataSource,
    private readonly events: EventPublisher,
    private readonly redis: Redis,
    private readonly streamPrefix: string,
    private readonly clock: Clock,
  ) {}

  /**
   * Issues a grant inside the caller's transaction (the request's final step commits
   * with it). The consumer unit's live grants for the same resource sharing a mode with
   * it are superseded in the same transaction, so at most one grant per (unit,
   * resource, mode) is live. Issues for one (unit, resource) are serialised by a
   * transaction-scoped advisory lock taken before the new id is drawn: the later one
   * sees the earlier one committed, supersedes it, and has the higher (UUIDv7) id, the
   * one decideGrant would pick anyway.
   */
  async issue(manager: EntityManager, emit: Emit, input: IssueGrant, actor: ChangeActor, at: Date, traceparent?: string): Promise<Grant> {
    await manager.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`grant-issue:${input.consumerUnitId}:${input.resourceCode}`]);
    const older = await manager
      .getRepository(Grant)
      .createQueryBuilder('g')
      .where("g.consumer_unit_id = :unit AND g.resource_code = :code AND g.status IN ('active', 'suspended') AND g.modes ?| ARRAY[:...modes]::text[]", {
        unit: input.consumerUnitId,
        code: input.resourceCode,
        modes: input.modes,
      })
      .orderBy('g.id', 'ASC')
      .setLock('pessimistic_write')
      .getMany();
    const grant = manager.create(Grant, { ...input, id: uuidv7(), status: 'active', statusReason: null, version: 1, supersededBy: null });
    await manager.insert(Grant, grant);
    await recordTransition(manager, { subjectType: 'grant', subjectId: grant.id, action: 'issue', from: null, to: 'active', actor, at, reason: `request ${input.requestId}` });
    // The new grant's event goes first: a cache that applies them in order never holds no live grant in between.
    emit(createEvent('grant.issued', { actor: eventActor(actor), subject: grant.id, data: viewGrant(grant), traceparent, occurredAt: at }));
    for (const g of older) {
      g.supersededBy = grant.id;
      await this.apply(manager, emit, g, 'supersede', actor, at, `superseded by grant ${grant.id}`, traceparent);
    }
    return grant;
  }

  async list(p: Principal, f: GrantFilter) {
    if (f.cursor !== undefined && !UUID.test(f.cursor)) throw invalidCursor();
    const q = this.db.getRepository(Grant).createQueryBuilder('g');
    // Outside the office a caller sees its own unit's grants, whatever the filters ask for.
    if (!isOffice(p)) q.andWhere('(g.consumer_unit_id = :unit OR g.provider_unit_id = :unit)', { unit: p.unitId });
    if (f.consumer) q.andWhere('g.consumer_unit_id = :consumer', { consumer: f.consumer });
    if (f.provider) q.andWhere('g.provider_unit_id = :provider', { provider: f.provider });
    if (f.resourceCode) q.andWhere('g.resource_code = :code', { code: f.resourceCode });
    if (f.status) q.andWhere('g.status = :status', { status: f.status });
    if (f.active === true) q.andWhere("g.status = 'active' AND g.valid_to > :now", { now: this.clock.now() });
    if (f.active === false) q.andWhere("NOT (g.status = 'active' AND g.valid_to > :now)", { now: this.clock.now() });
    if (f.cursor) q.andWhere('g.id < :cursor', { cursor: f.cursor });
    const limit = f.limit ?? 50;
    const rows = await q
      .orderBy('g.id', 'DESC')
      .take(limit + 1)
      .getMany();
    const more = rows.length > limit;
    const items = rows.slice(0, limit);
    return { items: items.map(viewGrant), nextCursor: more ? items[items.length - 1].id : null };
  }

  async get(p: Principal, id: string) {
    const g = await this.db.getRepository(Grant).findOneBy({ id });
    if (!g || !canSeeGrant(p, g)) throw new NotFoundError('The grant');
    const transitions = await this.db.getRepository(Transition).find({ where: { subjectId: id, subjectType: 'grant' }, order: { at: 'ASC', id: 'ASC' } });
    return { ...viewGrant(g), createdAt: g.createdAt.toISOString(), updatedAt: g.updatedAt.toISOString(), transitions: transitions.map(viewTransition) };
  }

  /** Suspend, resume or revoke: the provider's unit admin or the office admin, at any time. */
  async change(p: Principal, id: string, action: Exclude<GrantAction, 'expire' | 'supersede'>, reason: string | undefined, traceparent?: string) {
    if (action !== 'resume' && !reason?.trim()) throw new ValidationError(`A reason is required to ${action} a grant.`, { field: 'body.reason' }, 'REASON_REQUIRED');
    const g0 = await this.db.getRepository(Grant).findOneBy({ id });
    if (!g0 || !canSeeGrant(p, g0)) throw new NotFoundError('The grant');
    const mayAct = hasRole(p, 'office_admin') || (hasRole(p, 'unit_admin') && p.unitId === g0.providerUnitId);
    if (!mayAct) throw new ForbiddenError(`Only the provider’s unit admin or the office admin may ${action} a grant.`, 'NOT_ALLOWED');
    const now = this.clock.now();
    return this.events.transaction(async (m, emit) => {
      const g = await m.getRepository(Grant).findOne({ where: { id }, lock: { mode: 'pessimistic_write' } });
      if (!g) throw new NotFoundError('The grant');
      await this.apply(m, emit, g, action, p, now, reason?.trim() || null, traceparent);
      return viewGrant(g);
    });
  }

  /** Grants past their end expire on their own. Safe with several replicas: rows are claimed with SKIP LOCKED. */
  async sweepExpiry(batch = 500): Promise<number> {
    const now = this.clock.now();
    return this.events.transaction(async (m, emit) => {
      const due = await m
        .getRepository(Grant)
        .createQueryBuilder('g')
        .where("g.status IN ('active', 'suspended') AND g.valid_to <= :now", { now })
        .orderBy('g.valid_to', 'ASC')
        .take(batch)
        .setLock('pessimistic_write')
        .setOnLocked('skip_locked')
        .getMany();
      for (const g of due) await this.apply(m, emit, g, 'expire', 'system', now, 'validity period ended');
      return due.length;
    });
  }

  /** A deprecated resource no longer flows: its live grants are revoked in the consumer's transaction. */
  async revokeForResource(m: EntityManager, emit: Emit, resourceCode: string, reason: string, traceparent?: string): Promise<number> {
    const now = this.clock.now();
    const live = await m
      .getRepository(Grant)
      .createQueryBuilder('g')
      .where("g.resource_code = :code AND g.status IN ('active', 'suspended')", { code: resourceCode })
      .setLock('pessimistic_write')
      .getMany();
    for (const g of live) await this.apply(m, emit, g, 'revoke', 'system', now, reason, traceparent);
    return live.length;
  }

  /**
   * Everything the gateway needs at start: the stream position is read before the
   * query, so an event committed in between is both in the snapshot and after the
   * position; applying it twice is harmless (versions), missing it is not possible.
   */
  async snapshot(p: Principal) {
    requireRole(p, 'office_admin', 'office_auditor');
    const last = (await this.redis.xrevrange(streamKey(this.streamPrefix, 'grant'), '+', '-', 'COUNT', 1)) as [string, string[]][];
    const position = last[0]?.[0] ?? '0-0';
    const rows = await this.db.getRepository(Grant).createQueryBuilder('g').where("g.status = 'active' AND g.valid_to > :now", { now: this.clock.now() }).orderBy('g.id', 'ASC').getMany();
    return { position, stream: streamKey(this.streamPrefix, 'grant'), takenAt: this.clock.now().toISOString(), items: rows.map(viewGrant) };
  }

  private async apply(m: EntityManager, emit: Emit, g: Grant, action: GrantAction, actor: ChangeActor, at: Date, reason: string | null, traceparent?: string): Promise<void> {
    assertTransition('grant', g.status, action);
    const from = g.status;
    g.status = ACTION_STATUS[action];
    g.statusReason = reason;
    g.version += 1;
    await m.getRepository(Grant).update({ id: g.id }, { status: g.status, statusReason: reason, version: g.version, supersededBy: g.supersededBy });
    await recordTransition(m, { subjectType: 'grant', subjectId: g.id, action, from, to: g.status, actor, at, reason });
    emit(createEvent(ACTION_EVENT[action], { actor: eventActor(actor), subject: g.id, data: { ...viewGrant(g), reason }, traceparent, occurredAt: at }));
  }
}

export function viewTransition(t: Transition) {
  return { action: t.action, from: t.fromStatus, to: t.toStatus, actorKind: t.actorKind, actorUnitId: t.actorUnitId, actorId: t.actorId, at: t.at.toISOString(), reason: t.reason };
}
