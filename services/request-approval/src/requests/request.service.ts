import type { DataSource, EntityManager } from 'typeorm';
import { isOffice, requireRole, type Principal } from '@gdx/auth';
import { ConflictError, ForbiddenError, NotFoundError, ServiceUnavailableError, ValidationError } from '@gdx/errors';
import { type Emit, type EventPublisher } from '@gdx/events';
import { createEvent } from '@gdx/contracts';
import { uuidv7 } from '@gdx/database';
import { ShareRequest, type GrantTerms } from '../entities/share-request.entity';
import { CommitmentAcceptance } from '../entities/commitment-acceptance.entity';
import { Transition } from '../entities/transition.entity';
import { effectiveSharing, type CatalogueClient } from '../shared/catalogue.client';
import type { UnitDirectory } from '../shared/unit-directory.client';
import type { Clock } from '../shared/clock';
import type { WorkingCalendar } from '../shared/working-calendar';
import { assertTransition, eventActor, recordTransition, type ChangeActor, type RequestAction } from '../shared/state-machine';
import { viewTransition, type GrantService } from '../grants/grant.service';
import { checkAcceptance } from './commitment';
import { completeFilingForm } from './filing-form';
import type { ConfirmInput, FileRequestInput, FilingInput, RequestFilter, ReviewInput } from './request.schemas';
import { CatalogueChecks, checkClearItems, checkItems, checkWindow, secretItems } from './catalogue-checks';
import { canSeeRequest, eventData, viewRequest } from './request.view';
import { invalidCursor } from '@gdx/service-kit';

export interface RequestRules {
  providerDeadlineWorkingDays: number;
  defaultRateLimitPerSecond: number;
  defaultDailyQuota: number;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function blank(s: string | undefined): boolean {
  return !s || !s.trim();
}

/**
 * The request workflow of §5: rules only, no HTTP. Every state change locks the
 * row, checks the transition is legal, writes the change, its transition record
 * and its events in one transaction; catalogue reads happen before it, so no
 * transaction waits on the network and a failed check leaves nothing written.
 */
export class RequestService {
  private readonly checks: CatalogueChecks;

  constructor(
    private readonly db: DataSource,
    private readonly events: EventPublisher,
    catalogue: CatalogueClient,
    private readonly units: UnitDirectory,
    private readonly grants: GrantService,
    private readonly clock: Clock,
    private readonly calendar: WorkingCalendar,
    private readonly rules: RequestRules,
  ) {
    this.checks = new CatalogueChecks(catalogue, { rateLimitPerSecond: rules.defaultRateLimitPerSecond, dailyQuota: rules.defaultDailyQuota });
  }

  async file(p: Principal, input: FileRequestInput, authorization: string | undefined, traceparent?: string) {
    requireRole(p, 'unit_admin', 'unit_operator', 'office_admin');
    const now = this.clock.now();
    const validFrom = new Date(input.validFrom);
    const validTo = new Date(input.validTo);
    checkWindow(validFrom, validTo, now, 'body');
    const r = new ShareRequest();
    Object.assign(r, {
      id: uuidv7(),
      applicantUnitId: p.unitId,
      filedBy: p.subject,
      serviceMode: input.serviceMode,
      purpose: input.purpose.trim(),
      dutyBasis: input.dutyBasis.trim(),
      expectedVolume: input.expectedVolume,
      validFrom,
      validTo,
      attachments: input.attachments ?? [],
      items: [...new Set(input.items)],
      clearItems: [...new Set(input.clearItems ?? [])],
      delayed: false,
      delayedAt: null,
      review: null,
      officeDecision: null,
      filingForm: null,
      grantId: null,
      closedAt: null,
      version: 1,
    });
    if (blank(r.purpose)) throw new ValidationError('State the purpose.', { field: 'body.purpose' }, 'PURPOSE_REQUIRED');
    if (blank(r.dutyBasis)) throw new ValidationError('State the statutory duty the data serves.', { field: 'body.dutyBasis' }, 'DUTY_BASIS_REQUIRED');
    checkClearItems(r.clearItems, r.items, 'body.clearItems');

    if (input.resourceCode !== undefined) {
      if (input.need !== undefined) throw new ValidationError('A request names a catalogue resource or an out-of-catalogue need, not both.', { field: 'body.need' }, 'RESOURCE_OR_NEED');
      const res = await this.checks.published(input.resourceCode, authorization, 'body.resourceCode');
      if (res.providerUnitId === p.unitId) throw new ValidationError('A unit does not request its own resource.', { field: 'body.resourceCode' }, 'OWN_RESOURCE');
      if (input.providerUnitId !== undefined && input.providerUnitId !== res.providerUnitId) {
        throw new ValidationError('providerUnitId is not the provider of this resource; leave it out for catalogue resources.', { field: 'body.providerUnitId' }, 'PROVIDER_MISMATCH');
      }
      checkItems(r.items, res, 'body.items');
      const sharing = effectiveSharing(res, r.items);
      // A `none` resource offers no mode at all; the office may still make an exception for the mode asked.
      if (sharing !== 'none' && !res.methods.includes(input.serviceMode)) {
        throw new ValidationError(`${res.code} is not offered as ${input.serviceMode} (offered: ${res.methods.join(', ') || 'none'}).`, { field: 'body.serviceMode' }, 'MODE_NOT_OFFERED');
      }
      // §6: a secret item leaves in clear only with a legal basis the office records, which an unconditional filing never meets.
      if (sharing === 'unconditional') {
        const secret = secretItems(r.clearItems, res);
        if (secret.length)
          throw new ValidationError(
            `${secret.join(', ')} ${secret.length > 1 ? 'are' : 'is'} secret: never served in clear on an unconditional filing.`,
            { field: `body.clearItems[${r.clearItems.indexOf(secret[0])}]` },
            'SECRET_ITEM_NOT_CLEAR',
          );
      }
      Object.assign(r, { track: sharing, resourceCode: res.code, resourceName: res.name ?? null, resourceVersion: res.version ?? null, providerUnitId: res.providerUnitId, need: null });
    } else {
      if (blank(input.need)) throw new ValidationError('Name a catalogue resource, or describe the out-of-catalogue need.', { field: 'body.resourceCode' }, 'RESOURCE_OR_NEED');
      if (!input.providerUnitId) throw new ValidationError('An out-of-catalogue need names the unit asked to provide it.', { field: 'body.providerUnitId' }, 'PROVIDER_REQUIRED');
      if (input.providerUnitId === p.unitId) throw new ValidationError('A unit does not ask itself.', { field: 'body.providerUnitId' }, 'OWN_RESOURCE');
      if (!(await this.units.exists(input.providerUnitId, authorization))) throw new ValidationError('providerUnitId names no unit.', { field: 'body.providerUnitId' }, 'UNKNOWN_UNIT');
      Object.assign(r, { track: 'uncatalogued', resourceCode: null, resourceName: null, resourceVersion: null, providerUnitId: input.providerUnitId, need: input.need!.trim() });
    }

    // Unconditional requests wait for the applicant's own record form; the others go to their reviewer at once.
    r.status = r.track === 'unconditional' ? 'awaiting_filing' : r.track === 'none' ? 'office_review' : 'provider_review';
    r.submittedAt = r.status === 'awaiting_filing' ? null : now;
    r.providerDeadline = r.status === 'provider_review' ? this.calendar.addWorkingDays(now, this.rules.providerDeadlineWorkingDays) : null;

    return this.events.transaction(async (m, emit) => {
      await m.save(ShareRequest, r);
      await recordTransition(m, { subjectType: 'request', subjectId: r.id, action: 'file', from: null, to: r.status, actor: p, at: now, reason: r.purpose });
      emit(createEvent('request.filed', { actor: eventActor(p), subject: r.id, data: eventData(r, null), traceparent, occurredAt: now }));
      if (r.submittedAt)
        emit(
          createEvent('request.submitted', {
            actor: eventActor(p),
            subject: r.id,
            data: eventData(r, null, { to: r.status === 'provider_review' ? 'provider' : 'office' }),
            traceparent,
            occurredAt: now,
          }),
        );
      return this.view(m, r);
    });
  }

  async list(p: Principal, f: RequestFilter) {
    if (f.cursor !== undefined && !UUID.test(f.cursor)) throw invalidCursor();
    const q = this.db.getRepository(ShareRequest).createQueryBuilder('r');
    if (!isOffice(p)) q.andWhere('(r.applicant_unit_id = :unit OR r.provider_unit_id = :unit)', { unit: p.unitId });
    if (f.role === 'applicant') q.andWhere('r.applicant_unit_id = :me', { me: p.unitId });
    if (f.role === 'provider') q.andWhere('r.provider_unit_id = :me', { me: p.unitId });
    if (f.applicant) q.andWhere('r.applicant_unit_id = :applicant', { applicant: f.applicant });
    if (f.provider) q.andWhere('r.provider_unit_id = :provider', { provider: f.provider });
    if (f.status) q.andWhere('r.status = :status', { status: f.status });
    if (f.resourceCode) q.andWhere('r.resource_code = :code', { code: f.resourceCode });
    if (f.delayed !== undefined) q.andWhere('r.delayed = :delayed', { delayed: f.delayed });
    if (f.cursor) q.andWhere('r.id < :cursor', { cursor: f.cursor });
    const limit = f.limit ?? 50;
    const rows = await q
      .orderBy('r.id', 'DESC')
      .take(limit + 1)
      .getMany();
    const more = rows.length > limit;
    const items = rows.slice(0, limit);
    return { items: items.map(viewRequest), nextCursor: more ? items[items.length - 1].id : null };
  }

  async get(p: Principal, id: string) {
    const r = await this.visible(p, id);
    return this.view(this.db.manager, r);
  }

  /** Unconditional: the record form and the commitment, and the grant is issued at once. */
  async filing(p: Principal, id: string, input: FilingInput, authorization: string | undefined, traceparent?: string) {
    const r0 = await this.visible(p, id);
    this.requireApplicant(p, r0);
    if (p.kind !== 'account') throw new ForbiddenError('A commitment is signed by a person’s account, not by a system client.', 'SIGNER_REQUIRED');
    assertTransition('request', r0.status, 'filing');
    const commitment = checkAcceptance(input.commitment);
    // 使用单位 is the caller's own unit as the directory names it, whatever the form says.
    const applicantUnitName = await this.units.name(p.unitId, authorization);
    if (applicantUnitName === undefined) throw new ServiceUnavailableError('The unit directory does not know the calling unit; try again shortly.', 'UNIT_DIRECTORY_UNAVAILABLE');
    const form = completeFilingForm(r0, input.form, { applicantUnitName });
    const now = this.clock.now();
    // The resource may have changed since the request was filed: what is granted follows the catalogue as it is now.
    const res = await this.checks.published(r0.resourceCode!, authorization, 'resourceCode', true);
    if (effectiveSharing(res, r0.items) !== 'unconditional') throw new ConflictError('SHARING_TYPE_CHANGED', `${res.code} is no longer shared unconditionally; withdraw and file again.`);
    checkItems(r0.items, res, 'items', true);
    if (r0.validTo <= now) throw new ConflictError('VALIDITY_ELAPSED', 'The validity period asked for has ended; withdraw and file again.');
    // Personal items asked in clear are granted so; secret ones never on this track (checked at filing too, the catalogue may have changed since).
    const secret = secretItems(r0.clearItems, res);
    const clearItems = r0.clearItems.filter((k) => !secret.includes(k));

    return this.events.transaction(async (m, emit) => {
      const r = await this.lock(m, id, 'filing');
      r.filingForm = form;
      await m.insert(CommitmentAcceptance, {
        id: uuidv7(),
        requestId: r.id,
        unitId: p.unitId,
        signerAccountId: p.subject,
        acceptedAt: now,
        commitmentVersion: commitment.version,
        textSha256: commitment.sha256,
      });
      r.submittedAt = now;
      emit(
        createEvent('request.submitted', {
          actor: eventActor(p),
          subject: r.id,
          data: eventData(r, r.status, { filing: true, commitmentVersion: commitment.version, commitmentSha256: commitment.sha256 }),
          traceparent,
          occurredAt: now,
        }),
      );
      await this.grant(m, emit, r, { clearItems }, null, p, now, 'filing', 'record form filed and commitment accepted', traceparent);
      return this.view(m, r);
    });
  }

  /** The provider's answer: approve (possibly narrowing) or refuse with a legal basis. The office confirms either. */
  async review(p: Principal, id: string, input: ReviewInput, authorization: string | undefined, traceparent?: string) {
    const r0 = await this.visible(p, id);
    if (p.unitId !== r0.providerUnitId) throw new ForbiddenError('Only the provider the request is addressed to reviews it.', 'NOT_PROVIDER');
    requireRole(p, 'unit_admin');
    assertTransition('request', r0.status, 'review');
    const now = this.clock.now();
    let terms: GrantTerms | undefined;
    if (input.decision === 'refuse') {
      if (blank(input.legalBasis)) throw new ValidationError('Sharing is the rule: a refusal must state its legal basis.', { field: 'body.legalBasis' }, 'LEGAL_BASIS_REQUIRED');
      if (input.terms) throw new ValidationError('A refusal carries no grant terms.', { field: 'body.terms' }, 'TERMS_NOT_ALLOWED');
    } else {
      terms = await this.checks.narrowTerms(r0, input.terms ?? {}, authorization, now, p.unitId);
    }
    return this.events.transaction(async (m, emit) => {
      const r = await this.lock(m, id, 'review');
      const from = r.status;
      r.review = {
        decision: input.decision,
        unitId: p.unitId,
        by: p.subject,
        at: now.toISOString(),
        ...(terms ? { terms } : {}),
        ...(input.legalBasis ? { legalBasis: input.legalBasis.trim() } : {}),
        ...(input.comment ? { comment: input.comment } : {}),
      };
      r.status = 'office_review';
      r.providerDeadline = null;
      await this.save(m, r);
      await recordTransition(m, {
        subjectType: 'request',
        subjectId: r.id,
        action: `review:${input.decision}`,
        from,
        to: r.status,
        actor: p,
        at: now,
        reason: input.legalBasis ?? input.comment ?? null,
      });
      emit(
        createEvent('request.reviewed', {
          actor: eventActor(p),
          subject: r.id,
          data: eventData(r, from, {
            decision: input.decision,
            legalBasis: input.legalBasis ?? null,
            terms: terms ?? null,
            answeredAt: now.toISOString(),
            ...(r.submittedAt ? { workingDays: this.calendar.workingDaysBetween(r.submittedAt, now) } : {}),
          }),
          traceparent,
          occurredAt: now,
        }),
      );
      return this.view(m, r);
    });
  }

  /** The office's final word: confirm the provider's answer, send it back, or refuse; for `none` only an exception with a legal basis grants. */
  async confirm(p: Principal, id: string, input: ConfirmInput, authorization: string | undefined, traceparent?: string) {
    const r0 = await this.visible(p, id);
    requireRole(p, 'office_admin');
    const action: RequestAction = input.decision;
    assertTransition('request', r0.status, action);
    const now = this.clock.now();
    let terms: GrantTerms = {};
    let grants = false;
    /** The items granted in clear that the catalogue declares secret: they need the office's recorded legal basis. */
    let secret: string[] = [];
    if (input.decision === 'return') {
      if (r0.track === 'none') throw new ConflictError('ILLEGAL_TRANSITION', 'A request for a resource that is not shared has no provider review to return to.', { currentStatus: r0.status, action });
      if (blank(input.comment)) throw new ValidationError('Say why the request goes back to the provider.', { field: 'body.comment' }, 'REASON_REQUIRED');
    } else if (input.decision === 'refuse') {
      // Refusing what the catalogue already declares not shared rests on the catalogue's own legal basis.
      if (blank(input.legalBasis) && r0.track === 'none') input = { ...input, legalBasis: await this.checks.notSharedBasis(r0.resourceCode!, authorization) };
      if (blank(input.legalBasis)) throw new ValidationError('A refusal must state its legal basis.', { field: 'body.legalBasis' }, 'LEGAL_BASIS_REQUIRED');
    } else if (r0.track === 'none') {
      if (blank(input.legalBasis))
        throw new ValidationError('A resource that is not shared is granted only as an exception with a recorded legal basis.', { field: 'body.legalBasis' }, 'LEGAL_BASIS_REQUIRED');
      terms = await this.checks.narrowTerms(r0, input.terms ?? {}, authorization, now, undefined);
      grants = true;
      secret = secretItems(terms.clearItems ?? [], await this.checks.published(terms.resourceCode!, authorization, 'body.terms.resourceCode', true));
    } else {
      if (input.terms) throw new ValidationError('The office confirms the provider’s terms as they are; return the request to change them.', { field: 'body.terms' }, 'TERMS_NOT_ALLOWED');
      grants = r0.review?.decision === 'approve';
      if (grants) {
        terms = r0.review!.terms ?? {};
        const res = await this.checks.published(terms.resourceCode ?? r0.resourceCode!, authorization, 'resourceCode', true);
        checkItems(terms.items ?? r0.items, res, 'items', true);
        if (new Date(terms.validTo ?? r0.validTo) <= now) throw new ConflictError('VALIDITY_ELAPSED', 'The validity period approved has ended; return the request to the provider.');
        const granted = terms.items ?? r0.items;
        terms = { ...terms, clearItems: terms.clearItems ?? r0.clearItems.filter((k) => granted.includes(k)) };
        secret = secretItems(terms.clearItems!, res);
      }
    }
    if (!grants && input.clearLegalBasis !== undefined)
      throw new ValidationError('A legal basis for items in clear is recorded only when a grant is confirmed.', { field: 'body.clearLegalBasis' }, 'TERMS_NOT_ALLOWED');
    // §6: secret items never leave in clear unless the office records the legal basis for it here.
    if (secret.length && blank(input.clearLegalBasis))
      throw new ValidationError(
        `${secret.join(', ')} ${secret.length > 1 ? 'are' : 'is'} secret: serving ${secret.length > 1 ? 'them' : 'it'} in clear needs the office’s recorded legal basis (or return the request to the provider to drop ${secret.length > 1 ? 'them' : 'it'} from the items in clear).`,
        { field: 'body.clearLegalBasis' },
        'LEGAL_BASIS_REQUIRED',
      );
    const clearLegalBasis = secret.length ? input.clearLegalBasis!.trim() : null;

    return this.events.transaction(async (m, emit) => {
      const r = await this.lock(m, id, action);
      const from = r.status;
      r.officeDecision = {
        decision: input.decision,
        by: p.subject,
        at: now.toISOString(),
        ...(input.legalBasis ? { legalBasis: input.legalBasis.trim() } : {}),
        ...(clearLegalBasis ? { clearLegalBasis } : {}),
        ...(input.comment ? { comment: input.comment } : {}),
      };
      const reason = input.legalBasis ?? input.comment ?? null;
      if (input.decision === 'return') {
        r.status = 'provider_review';
        r.review = null;
        r.providerDeadline = this.calendar.addWorkingDays(now, this.rules.providerDeadlineWorkingDays);
        await this.save(m, r);
        await recordTransition(m, { subjectType: 'request', subjectId: r.id, action: 'return', from, to: r.status, actor: p, at: now, reason });
        emit(createEvent('request.returned', { actor: eventActor(p), subject: r.id, data: eventData(r, from, { comment: input.comment }), traceparent, occurredAt: now }));
      } else if (input.decision === 'confirm' && grants) {
        emit(
          createEvent('request.confirmed', {
            actor: eventActor(p),
            subject: r.id,
            data: eventData(r, from, { outcome: 'granted', legalBasis: input.legalBasis ?? null }),
            traceparent,
            occurredAt: now,
          }),
        );
        await this.grant(m, emit, r, terms, clearLegalBasis, p, now, 'confirm', reason ?? 'confirmed by the office', traceparent);
      } else {
        if (input.decision === 'confirm')
          emit(createEvent('request.confirmed', { actor: eventActor(p), subject: r.id, data: eventData(r, from, { outcome: 'refused' }), traceparent, occurredAt: now }));
        r.status = 'refused';
        r.closedAt = now;
        await this.save(m, r);
        const basis = input.legalBasis ?? r.review?.legalBasis ?? null;
        await recordTransition(m, { subjectType: 'request', subjectId: r.id, action, from, to: r.status, actor: p, at: now, reason: basis });
        emit(
          createEvent('request.refused', {
            actor: eventActor(p),
            subject: r.id,
            data: eventData(r, from, { legalBasis: basis, refusedBy: input.decision === 'confirm' ? 'provider' : 'office' }),
            traceparent,
            occurredAt: now,
          }),
        );
      }
      return this.view(m, r);
    });
  }

  async withdraw(p: Principal, id: string, reason: string | undefined, traceparent?: string) {
    const r0 = await this.visible(p, id);
    this.requireApplicant(p, r0);
    assertTransition('request', r0.status, 'withdraw');
    const now = this.clock.now();
    return this.events.transaction(async (m, emit) => {
      const r = await this.lock(m, id, 'withdraw');
      const from = r.status;
      r.status = 'withdrawn';
      r.providerDeadline = null;
      r.closedAt = now;
      await this.save(m, r);
      await recordTransition(m, { subjectType: 'request', subjectId: r.id, action: 'withdraw', from, to: r.status, actor: p, at: now, reason: reason ?? null });
      emit(createEvent('request.withdrawn', { actor: eventActor(p), subject: r.id, data: eventData(r, from, { reason: reason ?? null }), traceparent, occurredAt: now }));
      return this.view(m, r);
    });
  }

  /**
   * Flags provider reviews past their deadline as delayed provision (延迟提供). The
   * flag stays after the answer comes: it counts against the provider in assessment.
   */
  async sweepDeadlines(batch = 500): Promise<number> {
    const now = this.clock.now();
    return this.events.transaction(async (m, emit) => {
      const due = await m
        .getRepository(ShareRequest)
        .createQueryBuilder('r')
        .where("r.status = 'provider_review' AND NOT r.delayed AND r.provider_deadline <= :now", { now })
        .orderBy('r.provider_deadline', 'ASC')
        .take(batch)
        .setLock('pessimistic_write')
        .setOnLocked('skip_locked')
        .getMany();
      for (const r of due) {
        assertTransition('request', r.status, 'delay');
        r.delayed = true;
        r.delayedAt = now;
        await this.save(m, r);
        await recordTransition(m, {
          subjectType: 'request',
          subjectId: r.id,
          action: 'delay',
          from: r.status,
          to: r.status,
          actor: 'system',
          at: now,
          reason: `provider deadline ${r.providerDeadline!.toISOString()} passed`,
        });
        emit(
          createEvent('request.delayed', {
            actor: { kind: 'system' },
            subject: r.id,
            data: eventData(r, r.status, { deadline: r.providerDeadline!.toISOString(), workingDays: this.rules.providerDeadlineWorkingDays }),
            occurredAt: now,
          }),
        );
      }
      return due.length;
    });
  }

  // ── helpers ────────────────────────────────────────────────────────────────

  private async visible(p: Principal, id: string): Promise<ShareRequest> {
    const r = await this.db.getRepository(ShareRequest).findOneBy({ id });
    if (!r || !canSeeRequest(p, r)) throw new NotFoundError('The request');
    return r;
  }

  private requireApplicant(p: Principal, r: ShareRequest): void {
    if (p.unitId !== r.applicantUnitId) throw new ForbiddenError('Only the applicant unit may do this.', 'NOT_APPLICANT');
    requireRole(p, 'unit_admin', 'unit_operator', 'office_admin');
  }

  /** Locks the row and re-checks the transition: a concurrent decision made since the first read answers 409. */
  private async lock(m: EntityManager, id: string, action: RequestAction): Promise<ShareRequest> {
    const r = await m.getRepository(ShareRequest).findOne({ where: { id }, lock: { mode: 'pessimistic_write' } });
    if (!r) throw new NotFoundError('The request');
    assertTransition('request', r.status, action);
    return r;
  }

  private async save(m: EntityManager, r: ShareRequest): Promise<void> {
    r.version += 1;
    await m.getRepository(ShareRequest).save(r);
  }

  private async grant(
    m: EntityManager,
    emit: Emit,
    r: ShareRequest,
    terms: GrantTerms,
    clearLegalBasis: string | null,
    actor: ChangeActor,
    now: Date,
    action: RequestAction,
    reason: string,
    traceparent?: string,
  ): Promise<void> {
    const from = r.status;
    const validFrom = new Date(terms.validFrom ?? r.validFrom);
    const items = terms.items ?? r.items;
    const g = await this.grants.issue(
      m,
      emit,
      {
        requestId: r.id,
        consumerUnitId: r.applicantUnitId,
        providerUnitId: r.providerUnitId,
        resourceCode: terms.resourceCode ?? r.resourceCode!,
        items,
        clearItems: (terms.clearItems ?? r.clearItems).filter((k) => items.includes(k)),
        clearLegalBasis,
        rowFilter: terms.rowFilter ?? null,
        modes: [r.serviceMode],
        rateLimitPerSecond: terms.rateLimitPerSecond ?? this.rules.defaultRateLimitPerSecond,
        dailyQuota: terms.dailyQuota ?? this.rules.defaultDailyQuota,
        // Nothing flows before the grant exists, whatever start was asked for.
        validFrom: validFrom < now ? now : validFrom,
        validTo: new Date(terms.validTo ?? r.validTo),
        purpose: r.purpose,
      },
      actor,
      now,
      traceparent,
    );
    r.grantId = g.id;
    r.status = 'granted';
    r.closedAt = now;
    await this.save(m, r);
    await recordTransition(m, { subjectType: 'request', subjectId: r.id, action, from, to: r.status, actor, at: now, reason });
  }

  private async view(m: EntityManager, r: ShareRequest) {
    const [transitions, acceptance] = await Promise.all([
      m.getRepository(Transition).find({ where: { subjectId: r.id, subjectType: 'request' }, order: { at: 'ASC', id: 'ASC' } }),
      m.getRepository(CommitmentAcceptance).findOneBy({ requestId: r.id }),
    ]);
    const fresh = r.createdAt ? r : await m.getRepository(ShareRequest).findOneByOrFail({ id: r.id });
    return {
      ...viewRequest(fresh),
      filing: r.filingForm
        ? {
            form: r.filingForm,
            commitment: acceptance
              ? { signerAccountId: acceptance.signerAccountId, acceptedAt: acceptance.acceptedAt.toISOString(), version: acceptance.commitmentVersion, sha256: acceptance.textSha256 }
              : null,
          }
        : null,
      transitions: transitions.map(viewTransition),
    };
  }
}
