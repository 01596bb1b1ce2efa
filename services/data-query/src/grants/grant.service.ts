import type { EntityManager } from 'typeorm';
import type { EventEnvelope } from '@gdx/events';
import { GrantCopy, type GrantStatus, type RowCondition, type ServiceMode } from '../entities/grant-copy.entity';
import { CHANGES_CHANNEL } from '../shared/change-listener';

/** The full grant that request-approval puts in every `grant.*` event. */
export interface GrantView {
  id: string;
  consumerUnitId: string;
  providerUnitId: string;
  resourceCode: string;
  items: string[];
  rowFilter: { all: RowCondition[] } | null;
  modes: ServiceMode[];
  rateLimitPerSecond?: number | null;
  dailyQuota?: number | null;
  validFrom?: string | null;
  validTo?: string | null;
  status: GrantStatus;
  version: number;
  maskPersonal?: boolean;
}

const TYPES = new Set(['grant.issued', 'grant.suspended', 'grant.resumed', 'grant.revoked', 'grant.expired', 'grant.updated']);
const STATUSES = new Set<GrantStatus>(['active', 'suspended', 'revoked', 'expired']);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function isGrantView(g: GrantView): boolean {
  return !!g && UUID.test(String(g.id)) && UUID.test(String(g.consumerUnitId)) && typeof g.resourceCode === 'string' && Array.isArray(g.items) && Array.isArray(g.modes) && STATUSES.has(g.status) && Number.isInteger(g.version);
}

/**
 * Keeps the local copy of grants. Every event carries the whole grant, so the
 * newest version simply replaces what is stored; an older one (events of one
 * grant may be redelivered or read out of order) changes nothing.
 */
export class GrantService {
  /** Applies one event in the consumer's transaction; returns the grant id it changed, if any. */
  async apply(m: EntityManager, event: EventEnvelope): Promise<string | undefined> {
    if (!TYPES.has(event.type)) return undefined;
    const g = event.data as unknown as GrantView;
    if (!isGrantView(g)) throw new Error(`${event.type} ${event.id} does not carry a grant`);
    const repo = m.getRepository(GrantCopy);
    const existing = await repo.findOne({ where: { id: g.id }, lock: { mode: 'pessimistic_write' } });
    if (existing && existing.version >= g.version) return undefined;
    const row = existing ?? repo.create({ id: g.id });
    Object.assign(row, {
      consumerUnitId: g.consumerUnitId,
      providerUnitId: g.providerUnitId,
      resourceCode: g.resourceCode,
      items: g.items,
      rowFilter: g.rowFilter ?? null,
      modes: g.modes,
      rateLimitPerSecond: g.rateLimitPerSecond ?? null,
      dailyQuota: g.dailyQuota ?? null,
      validFrom: g.validFrom ? new Date(g.validFrom) : null,
      validTo: g.validTo ? new Date(g.validTo) : null,
      status: g.status,
      version: g.version,
      // Personal items are masked unless the grant explicitly says otherwise.
      maskPersonal: g.maskPersonal !== false,
    });
    await repo.save(row);
    await m.query('SELECT pg_notify($1, $2)', [CHANGES_CHANNEL, `grant:${g.id}`]);
    return g.id;
  }
}
