import type { EntityManager } from 'typeorm';
import type { EventData } from '@gdx/contracts';
import { GrantCopy } from '../entities/grant-copy.entity';
import { CHANGES_CHANNEL } from '../shared/change-listener';

/** The events that carry a grant, whole: each one is stored the same way. */
export const GRANT_EVENTS = ['grant.issued', 'grant.suspended', 'grant.resumed', 'grant.revoked', 'grant.expired', 'grant.superseded'] as const;
export type GrantEventType = (typeof GRANT_EVENTS)[number];

/**
 * Keeps the local copy of grants. Every event carries the whole grant, so the
 * newest version simply replaces what is stored; an older one (events of one
 * grant may be redelivered or read out of order) changes nothing.
 */
export class GrantService {
  /** Stores one grant in the consumer's transaction; returns the grant id it changed, if any. */
  async apply(m: EntityManager, g: EventData<GrantEventType>): Promise<string | undefined> {
    const repo = m.getRepository(GrantCopy);
    const existing = await repo.findOne({ where: { id: g.id }, lock: { mode: 'pessimistic_write' } });
    if (existing && existing.version >= g.version) return undefined;
    const row = existing ?? repo.create({ id: g.id });
    Object.assign(row, {
      consumerUnitId: g.consumerUnitId,
      providerUnitId: g.providerUnitId,
      resourceCode: g.resourceCode,
      items: g.items,
      rowFilter: g.rowFilter,
      modes: g.modes,
      rateLimitPerSecond: g.rateLimitPerSecond,
      dailyQuota: g.dailyQuota,
      validFrom: new Date(g.validFrom),
      validTo: new Date(g.validTo),
      status: g.status,
      version: g.version,
      // Masked items are masked unless the grant lists them (and, for secret items, carries a legal basis).
      clearItems: g.clearItems ?? null,
      clearLegalBasis: g.clearLegalBasis ?? null,
    } satisfies Partial<GrantCopy>);
    await repo.save(row);
    await m.query('SELECT pg_notify($1, $2)', [CHANGES_CHANNEL, `grant:${g.id}`]);
    return g.id;
  }
}
