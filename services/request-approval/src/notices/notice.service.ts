import type { DataSource, EntityManager } from 'typeorm';
import type { Redis } from 'ioredis';
import { requireRole, type Principal } from '@gdx/auth';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '@gdx/errors';
import { streamKey, type EventPublisher } from '@gdx/events';
import { createEvent, type NoticeView, type ServiceMode } from '@gdx/contracts';
import { uuidv7 } from '@gdx/database';
import { invalidCursor } from '@gdx/service-kit';
import { Notice } from '../entities/notice.entity';
import { NoticeRevision } from '../entities/notice-revision.entity';
import type { CatalogueClient } from '../shared/catalogue.client';
import type { Clock } from '../shared/clock';
import type { WorkingCalendar } from '../shared/working-calendar';
import { eventActor } from '../shared/state-machine';
import { nextNumber } from '../shared/numbering';
import type { AmendNoticeInput, AnnounceNoticeInput, NoticeFilter } from './notice.schemas';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface NoticeRules {
  /** Working days a window must be announced ahead unless it is an emergency (Art. 23: 3). */
  noticeWorkingDays: number;
}

interface Terms {
  startsAt: Date;
  endsAt: Date;
  services: ServiceMode[];
  resourceCodes: string[];
  emergency: boolean;
  emergencyReason: string | null;
}

/**
 * Maintenance notices (Art. 23): the office announces windows for service modes or
 * resources, a provider unit for its own resources, at least 3 working days ahead
 * unless it states an emergency. Every unit reads them; the gateway holds the ones
 * not over (snapshot + `notice.*` stream) and answers calls to what a window names
 * with 503 while it is open. Each change keeps the notice as it stood (notice_revision).
 */
export class NoticeService {
  constructor(
    private readonly db: DataSource,
    private readonly events: EventPublisher,
    private readonly redis: Redis,
    private readonly streamPrefix: string,
    private readonly catalogue: CatalogueClient,
    private readonly clock: Clock,
    private readonly calendar: WorkingCalendar,
    private readonly rules: NoticeRules,
  ) {}

  async announce(p: Principal, input: AnnounceNoticeInput, authorization: string | undefined, traceparent?: string) {
    requireRole(p, 'office_admin', 'unit_admin');
    const now = this.clock.now();
    const terms: Terms = {
      startsAt: new Date(input.startsAt),
      endsAt: new Date(input.endsAt),
      services: input.services ?? [],
      resourceCodes: input.resourceCodes ?? [],
      emergency: input.emergency ?? false,
      emergencyReason: input.emergencyReason?.trim() || null,
    };
    await this.checkTerms(p, terms, now, true, authorization);
    return this.events.transaction(async (m, emit) => {
      const n = Object.assign(new Notice(), {
        id: uuidv7(),
        number: await nextNumber(m, 'WH', this.calendar.localDate(now)),
        issuerUnitId: p.unitId,
        issuedBy: p.subject,
        ...terms,
        description: input.description.trim(),
        status: 'announced' as const,
        cancelReason: null,
        version: 1,
        createdAt: now,
        updatedAt: now,
      });
      await m.getRepository(Notice).insert(n);
      const view = await this.revise(m, n, p, 'announce', null, now);
      emit(createEvent('notice.published', { actor: eventActor(p), subject: n.id, data: view, traceparent, occurredAt: now }));
      return this.detail(m, n.id);
    });
  }

  /**
   * Changes the window, scope or text. Moving the start earlier or naming more is held to
   * the notice rule again (a change that makes the window longer at its end or narrower is not).
   */
  async amend(p: Principal, id: string, input: AmendNoticeInput, authorization: string | undefined, traceparent?: string) {
    const n0 = await this.changeable(p, id);
    const now = this.clock.now();
    const terms: Terms = {
      startsAt: input.startsAt ? new Date(input.startsAt) : n0.startsAt,
      endsAt: input.endsAt ? new Date(input.endsAt) : n0.endsAt,
      services: input.services ?? n0.services,
      resourceCodes: input.resourceCodes ?? n0.resourceCodes,
      emergency: input.emergency ?? n0.emergency,
      emergencyReason: input.emergencyReason !== undefined ? input.emergencyReason.trim() || null : n0.emergencyReason,
    };
    const widened = terms.startsAt < n0.startsAt || terms.services.some((s) => !n0.services.includes(s)) || terms.resourceCodes.some((c) => !n0.resourceCodes.includes(c));
    await this.checkTerms(p, terms, now, widened, authorization);
    return this.events.transaction(async (m, emit) => {
      const n = await this.lock(m, id, n0.version);
      Object.assign(n, terms, { description: input.description?.trim() ?? n.description, version: n.version + 1, updatedAt: now });
      await m.getRepository(Notice).save(n);
      const view = await this.revise(m, n, p, 'amend', input.reason.trim(), now);
      emit(createEvent('notice.amended', { actor: eventActor(p), subject: n.id, data: view, traceparent, occurredAt: now }));
      return this.detail(m, n.id);
    });
  }

  async cancel(p: Principal, id: string, reason: string, traceparent?: string) {
    const n0 = await this.changeable(p, id);
    const now = this.clock.now();
    return this.events.transaction(async (m, emit) => {
      const n = await this.lock(m, id, n0.version);
      Object.assign(n, { status: 'cancelled', cancelReason: reason.trim(), version: n.version + 1, updatedAt: now });
      await m.getRepository(Notice).save(n);
      const view = await this.revise(m, n, p, 'cancel', reason.trim(), now);
      emit(createEvent('notice.cancelled', { actor: eventActor(p), subject: n.id, data: view, traceparent, occurredAt: now }));
      return this.detail(m, n.id);
    });
  }

  /** Every unit sees every notice: they are announcements to all (Art. 23). */
  async list(f: NoticeFilter) {
    if (f.cursor !== undefined && !UUID.test(f.cursor)) throw invalidCursor();
    const now = this.clock.now();
    const q = this.db.getRepository(Notice).createQueryBuilder('n');
    if (f.active === true) q.andWhere("n.status = 'announced' AND n.ends_at > :now", { now });
    if (f.active === false) q.andWhere("(n.status = 'cancelled' OR n.ends_at <= :now)", { now });
    if (f.from) q.andWhere('n.ends_at > :from', { from: new Date(f.from) });
    if (f.to) q.andWhere('n.starts_at < :to', { to: new Date(f.to) });
    if (f.resourceCode) q.andWhere('(:code = ANY(n.resource_codes) OR cardinality(n.services) > 0)', { code: f.resourceCode });
    if (f.cursor) q.andWhere('n.id < :cursor', { cursor: f.cursor });
    const limit = f.limit ?? 50;
    const rows = await q
      .orderBy('n.id', 'DESC')
      .take(limit + 1)
      .getMany();
    const items = rows.slice(0, limit);
    return { items: items.map(viewNotice), nextCursor: rows.length > limit ? items[items.length - 1].id : null };
  }

  async get(id: string) {
    return this.detail(this.db.manager, id);
  }

  /**
   * Notices not yet over (cancelled ones are left out) and the notice stream's position
   * taken before the query: an event committed in between is in both, and versions make
   * applying it twice harmless. For the gateway (office or service principals).
   */
  async snapshot(p: Principal) {
    requireRole(p, 'office_admin', 'office_auditor');
    const last = (await this.redis.xrevrange(streamKey(this.streamPrefix, 'notice'), '+', '-', 'COUNT', 1)) as [string, string[]][];
    const now = this.clock.now();
    const rows = await this.db.getRepository(Notice).createQueryBuilder('n').where("n.status = 'announced' AND n.ends_at > :now", { now }).orderBy('n.id', 'ASC').getMany();
    return { position: last[0]?.[0] ?? '0-0', takenAt: now.toISOString(), items: rows.map(viewNotice) };
  }

  private async checkTerms(p: Principal, t: Terms, now: Date, ruleApplies: boolean, authorization: string | undefined): Promise<void> {
    if (Number.isNaN(t.startsAt.getTime()) || Number.isNaN(t.endsAt.getTime()) || t.endsAt <= t.startsAt)
      throw new ValidationError('The window ends after it starts.', { field: 'body.endsAt' }, 'INVALID_WINDOW');
    if (t.endsAt <= now) throw new ValidationError('The window is already over.', { field: 'body.endsAt' }, 'WINDOW_IN_PAST');
    if (!t.services.length && !t.resourceCodes.length)
      throw new ValidationError('Name the service modes or the resources the maintenance affects.', { field: 'body.resourceCodes' }, 'NOTICE_SCOPE_REQUIRED');
    if (t.emergency && !t.emergencyReason) throw new ValidationError('An emergency notice states its reason.', { field: 'body.emergencyReason' }, 'EMERGENCY_REASON_REQUIRED');
    if (!t.emergency) t.emergencyReason = null;
    const earliest = this.calendar.addWorkingDays(now, this.rules.noticeWorkingDays);
    if (ruleApplies && !t.emergency && t.startsAt < earliest) {
      throw new ValidationError(
        `Maintenance is announced at least ${this.rules.noticeWorkingDays} working days ahead: the earliest start now is ${earliest.toISOString()}. Mark it an emergency, with the reason, to announce it sooner.`,
        { field: 'body.startsAt', earliestStart: earliest.toISOString() },
        'NOTICE_TOO_SHORT',
      );
    }
    const office = p.roles.includes('office_admin');
    if (!office && t.services.length) throw new ForbiddenError('Only the office announces maintenance of whole service modes; a provider names its own resources.', 'SERVICES_OFFICE_ONLY');
    for (const [i, code] of t.resourceCodes.entries()) {
      const res = await this.catalogue.resource(code, authorization);
      if (!res) throw new ValidationError(`${code} is not a resource of the catalogue.`, { field: `body.resourceCodes[${i}]` }, 'UNKNOWN_RESOURCE');
      if (!office && res.providerUnitId !== p.unitId)
        throw new ForbiddenError(`${code} is another unit’s resource: a provider announces maintenance of its own.`, 'NOT_YOUR_RESOURCE', { field: `body.resourceCodes[${i}]` });
    }
  }

  private async changeable(p: Principal, id: string): Promise<Notice> {
    const n = await this.db.getRepository(Notice).findOneBy({ id });
    if (!n) throw new NotFoundError('The notice');
    requireRole(p, 'office_admin', 'unit_admin');
    if (!p.roles.includes('office_admin') && p.unitId !== n.issuerUnitId) throw new ForbiddenError('Only the unit that announced a notice, or the office, changes it.', 'NOT_ISSUER');
    this.assertOpen(n);
    return n;
  }

  private assertOpen(n: Notice): void {
    if (n.status === 'cancelled') throw new ConflictError('ILLEGAL_TRANSITION', 'A cancelled notice cannot be changed.', { currentStatus: n.status });
    if (n.endsAt <= this.clock.now()) throw new ConflictError('NOTICE_OVER', 'The notice’s window is over; it stays as it was.', { currentStatus: n.status });
  }

  /** Locks the row; a change made since the caller's read answers 409 instead of being overwritten. */
  private async lock(m: EntityManager, id: string, version: number): Promise<Notice> {
    const n = await m.getRepository(Notice).findOneOrFail({ where: { id }, lock: { mode: 'pessimistic_write' } });
    this.assertOpen(n);
    if (n.version !== version) throw new ConflictError('NOTICE_CHANGED', 'The notice was changed meanwhile; read it again.', { currentStatus: n.status });
    return n;
  }

  private async revise(m: EntityManager, n: Notice, p: Principal, action: 'announce' | 'amend' | 'cancel', reason: string | null, at: Date): Promise<NoticeView> {
    const view = viewNotice(n);
    await m.getRepository(NoticeRevision).insert({ id: uuidv7(), noticeId: n.id, version: n.version, action, actorUnitId: p.unitId, actorId: p.subject, at, reason, notice: view });
    return view;
  }

  private async detail(m: EntityManager, id: string) {
    const n = await m.getRepository(Notice).findOneBy({ id });
    if (!n) throw new NotFoundError('The notice');
    const revisions = await m.getRepository(NoticeRevision).find({ where: { noticeId: id }, order: { version: 'ASC' } });
    return {
      ...viewNotice(n),
      history: revisions.map((r) => ({ version: r.version, action: r.action, actorUnitId: r.actorUnitId, actorId: r.actorId, at: r.at.toISOString(), reason: r.reason, notice: r.notice })),
    };
  }
}

export function viewNotice(n: Notice): NoticeView {
  return {
    id: n.id,
    number: n.number,
    issuerUnitId: n.issuerUnitId,
    startsAt: n.startsAt.toISOString(),
    endsAt: n.endsAt.toISOString(),
    services: n.services,
    resourceCodes: n.resourceCodes,
    description: n.description,
    emergency: n.emergency,
    emergencyReason: n.emergencyReason,
    status: n.status,
    cancelReason: n.cancelReason,
    version: n.version,
    createdAt: n.createdAt.toISOString(),
    updatedAt: n.updatedAt.toISOString(),
  };
}
