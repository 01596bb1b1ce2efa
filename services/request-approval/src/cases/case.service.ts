import type { DataSource, EntityManager } from 'typeorm';
import { In } from 'typeorm';
import { isOffice, requireRole, type Principal } from '@gdx/auth';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '@gdx/errors';
import type { Emit, EventPublisher } from '@gdx/events';
import { createEvent, type CaseStatus, type CaseType } from '@gdx/contracts';
import { uuidv7 } from '@gdx/database';
import { invalidCursor } from '@gdx/service-kit';
import { Case, type CaseDetails } from '../entities/case.entity';
import { CaseDocument, type DocumentKind } from '../entities/case-document.entity';
import { Circular } from '../entities/circular.entity';
import { Grant } from '../entities/grant.entity';
import { KnownBatch } from '../entities/known-batch.entity';
import { Transition } from '../entities/transition.entity';
import type { Attachment } from '../entities/share-request.entity';
import type { Clock } from '../shared/clock';
import type { WorkingCalendar } from '../shared/working-calendar';
import type { UnitDirectory } from '../shared/unit-directory.client';
import { assertCaseTransition, eventActor, recordTransition, type CaseAction, type ChangeActor } from '../shared/state-machine';
import { nextNumber } from '../shared/numbering';
import { viewTransition } from '../grants/grant.service';
import type { AnswerComplaintInput, AnswerObjectionInput, AssignInput, CaseFilter, DecideInput, OpenComplaintInput, OpenObjectionInput, OpenRectificationInput, ReportInput } from './case.schemas';

export interface CaseRules {
  objectionAnswerWorkingDays: number;
  complaintAnswerWorkingDays: number;
}

const PREFIX: Record<CaseType, string> = { objection: 'YY', complaint: 'TS', rectification: 'ZG' };
const WHAT: Record<CaseType, string> = { objection: 'The objection', complaint: 'The complaint', rectification: 'The rectification order' };
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

interface Written {
  kind: DocumentKind;
  text: string;
  attachments?: Attachment[];
  outcome?: Record<string, unknown>;
}

interface Step<T extends CaseType> {
  action: CaseAction<T>;
  /** Changes the locked case; returns its new status. */
  apply: (c: Case, m: EntityManager, emit: Emit) => Promise<CaseStatus> | CaseStatus;
  document?: Written;
  reason?: string | null;
}

/**
 * The supervisory cases of §5 (Art. 18, 29, 30) on the request workflow's machinery:
 * one state-machine table (CASE_ACTIONS), the same transition log, working-day
 * calendar and sweeper. Every step reads the case as the caller may see it (others
 * get 404), checks who may act, then locks the row, re-checks the transition and
 * writes the change, its written text, its transition and its event in one transaction.
 */
export class CaseService {
  constructor(
    private readonly db: DataSource,
    private readonly events: EventPublisher,
    private readonly units: UnitDirectory,
    private readonly clock: Clock,
    private readonly calendar: WorkingCalendar,
    private readonly rules: CaseRules,
  ) {}

  // ── objections (异议) ──────────────────────────────────────────────────────

  async openObjection(p: Principal, input: OpenObjectionInput, traceparent?: string) {
    requireRole(p, 'unit_admin', 'unit_operator');
    const grants = await this.db.getRepository(Grant).find({ where: { consumerUnitId: p.unitId, resourceCode: input.resourceCode }, order: { id: 'DESC' } });
    // Only data the unit received can be objected to: it holds, or held, a grant for the resource.
    if (!grants.length) throw new ForbiddenError(`Your unit has no grant for ${input.resourceCode}: object to data you received.`, 'NO_GRANT', { field: 'body.resourceCode' });
    const granted = new Set(grants.flatMap((g) => g.items));
    const items = [...new Set(input.items ?? [])];
    const outside = items.findIndex((i) => !granted.has(i));
    if (outside >= 0) throw new ValidationError(`${items[outside]} is not an item your unit was granted of ${input.resourceCode}.`, { field: `body.items[${outside}]` }, 'ITEM_NOT_GRANTED');
    const now = this.clock.now();
    return this.open(p, 'objection', now, {
      status: 'awaiting_answer',
      againstUnitId: grants[0].providerUnitId,
      resourceCode: input.resourceCode,
      summary: input.description,
      deadline: this.calendar.addWorkingDays(now, this.rules.objectionAnswerWorkingDays),
      details: { recordKeys: [...new Set(input.recordKeys ?? [])], items, grantId: grants[0].id },
      document: { kind: 'statement', text: input.description, attachments: input.attachments },
      traceparent,
    });
  }

  /** The provider's written answer: `corrected` names a later accepted batch of the resource, `confirmed` explains. */
  async answerObjection(p: Principal, id: string, input: AnswerObjectionInput, traceparent?: string) {
    const c0 = await this.visible(p, 'objection', id);
    if (p.unitId !== c0.againstUnitId) throw new ForbiddenError('Only the provider objected to answers an objection.', 'NOT_PROVIDER');
    requireRole(p, 'unit_admin');
    assertCaseTransition('objection', c0.status, 'answer');
    let outcome: Record<string, unknown> = { outcome: input.outcome };
    if (input.outcome === 'corrected') {
      if (input.changeSeq === undefined) throw new ValidationError('A correction names the data batch (change sequence) that corrected the data.', { field: 'body.changeSeq' }, 'CHANGE_SEQ_REQUIRED');
      const batch = await this.db.getRepository(KnownBatch).findOneBy({ resourceCode: c0.resourceCode!, changeSeq: input.changeSeq });
      if (!batch)
        throw new ValidationError(
          `No accepted batch of ${c0.resourceCode} has change sequence ${input.changeSeq} (a batch just accepted may take a moment to be known here).`,
          { field: 'body.changeSeq' },
          'UNKNOWN_BATCH',
        );
      if (batch.acceptedAt <= c0.createdAt)
        throw new ValidationError(
          `Batch ${input.changeSeq} was accepted at ${batch.acceptedAt.toISOString()}, before the objection: it cannot be the correction.`,
          { field: 'body.changeSeq' },
          'BATCH_NOT_LATER',
        );
      outcome = { outcome: 'corrected', changeSeq: input.changeSeq, batchAcceptedAt: batch.acceptedAt.toISOString() };
    } else if (input.changeSeq !== undefined) {
      throw new ValidationError('A confirmation names no batch: nothing was corrected.', { field: 'body.changeSeq' }, 'CHANGE_SEQ_NOT_ALLOWED');
    }
    return this.step(
      p,
      'objection',
      id,
      {
        action: 'answer',
        apply: (c) => {
          c.deadline = null;
          return 'answered';
        },
        document: { kind: 'answer', text: input.text, attachments: input.attachments, outcome },
        reason: input.outcome,
      },
      traceparent,
    );
  }

  async acceptObjection(p: Principal, id: string, comment: string | undefined, traceparent?: string) {
    await this.requireOpener(p, 'objection', id, 'NOT_OBJECTOR');
    return this.step(p, 'objection', id, { action: 'accept', apply: (c, _m) => this.close(c, 'closed'), document: comment ? { kind: 'acceptance', text: comment } : undefined }, traceparent);
  }

  /** To the office: after an answer the objector disagrees with, or once the provider let the deadline pass. */
  async escalateObjection(p: Principal, id: string, reason: string, traceparent?: string) {
    const c0 = await this.requireOpener(p, 'objection', id, 'NOT_OBJECTOR');
    if (c0.status === 'awaiting_answer' && !c0.overdue)
      throw new ConflictError('NOT_YET_OVERDUE', `The provider may answer until ${c0.deadline!.toISOString()}; escalate after its answer or once that has passed.`, {
        currentStatus: c0.status,
        deadline: c0.deadline!.toISOString(),
      });
    return this.step(
      p,
      'objection',
      id,
      {
        action: 'escalate',
        apply: (c) => {
          if (c.status === 'awaiting_answer' && !c.overdue) throw new ConflictError('NOT_YET_OVERDUE', 'The provider’s deadline has not passed.', { currentStatus: c.status });
          c.deadline = null;
          return 'office_review';
        },
        document: { kind: 'escalation', text: reason },
        reason,
      },
      traceparent,
    );
  }

  async decideObjection(p: Principal, id: string, input: DecideInput, traceparent?: string) {
    await this.visible(p, 'objection', id);
    requireRole(p, 'office_admin');
    return this.step(
      p,
      'objection',
      id,
      {
        action: 'decide',
        apply: (c) => this.close(c, 'closed'),
        document: { kind: 'decision', text: input.text, attachments: input.attachments, outcome: { decision: input.decision } },
        reason: input.decision,
      },
      traceparent,
    );
  }

  // ── complaints (投诉) ──────────────────────────────────────────────────────

  async openComplaint(p: Principal, input: OpenComplaintInput, authorization: string | undefined, traceparent?: string) {
    requireRole(p, 'unit_admin', 'unit_operator');
    if (input.respondentUnitId === p.unitId) throw new ValidationError('A unit does not complain about itself.', { field: 'body.respondentUnitId' }, 'OWN_UNIT');
    if (!(await this.units.exists(input.respondentUnitId, authorization))) throw new ValidationError('respondentUnitId names no unit.', { field: 'body.respondentUnitId' }, 'UNKNOWN_UNIT');
    const now = this.clock.now();
    return this.open(p, 'complaint', now, {
      status: 'submitted',
      againstUnitId: input.respondentUnitId,
      resourceCode: input.resourceCode ?? null,
      summary: input.description,
      deadline: this.calendar.addWorkingDays(now, this.rules.complaintAnswerWorkingDays),
      details: { category: input.category, requestId: input.requestId ?? null, assigneeId: null, rectificationIds: [] },
      document: { kind: 'statement', text: input.description, attachments: input.attachments, outcome: { category: input.category } },
      traceparent,
    });
  }

  async assign(p: Principal, id: string, input: AssignInput, traceparent?: string) {
    await this.visible(p, 'complaint', id);
    requireRole(p, 'office_admin');
    return this.step(
      p,
      'complaint',
      id,
      {
        action: 'assign',
        apply: (c) => {
          c.details = { ...c.details, assigneeId: input.assigneeId };
          return 'investigating';
        },
        document: { kind: 'assignment', text: input.comment ?? `Assigned to ${input.assigneeId}.`, outcome: { assigneeId: input.assigneeId } },
        reason: input.assigneeId,
      },
      traceparent,
    );
  }

  async answerComplaint(p: Principal, id: string, input: AnswerComplaintInput, traceparent?: string) {
    await this.visible(p, 'complaint', id);
    requireRole(p, 'office_admin');
    return this.step(
      p,
      'complaint',
      id,
      {
        action: 'answer',
        apply: (c) => this.close(c, 'answered'),
        document: { kind: 'answer', text: input.text, attachments: input.attachments, outcome: { finding: input.finding } },
        reason: input.finding,
      },
      traceparent,
    );
  }

  /** The opener withdraws an objection or complaint that is still open. */
  async withdraw(p: Principal, type: 'objection' | 'complaint', id: string, reason: string | undefined, traceparent?: string) {
    await this.requireOpener(p, type, id, type === 'objection' ? 'NOT_OBJECTOR' : 'NOT_COMPLAINANT');
    return this.step(
      p,
      type,
      id,
      { action: 'withdraw', apply: (c) => this.close(c, 'withdrawn'), document: reason ? { kind: 'withdrawal', text: reason } : undefined, reason: reason ?? null },
      traceparent,
    );
  }

  // ── rectification orders (限期整改) ───────────────────────────────────────────

  async openRectification(p: Principal, input: OpenRectificationInput, authorization: string | undefined, traceparent?: string) {
    requireRole(p, 'office_admin');
    if (input.unitId === p.unitId) throw new ValidationError('The office does not order itself.', { field: 'body.unitId' }, 'OWN_UNIT');
    const now = this.clock.now();
    if (!DATE.test(input.dueDate) || input.dueDate <= this.calendar.localDate(now))
      throw new ValidationError('The due date is a later day than today.', { field: 'body.dueDate' }, 'DUE_DATE_NOT_FUTURE');
    let origin: Case | null = null;
    if (input.originCaseId) {
      origin = await this.db.getRepository(Case).findOneBy({ id: input.originCaseId });
      if (!origin || origin.type === 'rectification') throw new ValidationError('originCaseId names no complaint or objection.', { field: 'body.originCaseId' }, 'UNKNOWN_CASE');
      if (origin.againstUnitId !== input.unitId) throw new ValidationError(`${origin.number} is not against the unit ordered.`, { field: 'body.originCaseId' }, 'ORIGIN_MISMATCH');
    }
    if (!(await this.units.exists(input.unitId, authorization))) throw new ValidationError('unitId names no unit.', { field: 'body.unitId' }, 'UNKNOWN_UNIT');
    const text = input.text ?? input.problems.map((x, i) => `${i + 1}. ${x}`).join('\n');
    return this.open(p, 'rectification', now, {
      status: 'ordered',
      againstUnitId: input.unitId,
      resourceCode: origin?.resourceCode ?? null,
      summary: input.problems[0],
      deadline: this.endOf(input.dueDate),
      details: { problems: input.problems, dueDate: input.dueDate, returns: 0, originCaseId: origin?.id ?? null, circularId: null },
      document: { kind: 'statement', text, attachments: input.attachments, outcome: { dueDate: input.dueDate } },
      traceparent,
      also: origin
        ? async (m, created) => {
            const o = await m.getRepository(Case).findOneOrFail({ where: { id: origin.id }, lock: { mode: 'pessimistic_write' } });
            o.details = { ...o.details, rectificationIds: [...(o.details.rectificationIds ?? []), created.id] };
            await this.save(m, o);
          }
        : undefined,
    });
  }

  async report(p: Principal, id: string, input: ReportInput, traceparent?: string) {
    const c0 = await this.visible(p, 'rectification', id);
    if (p.unitId !== c0.againstUnitId) throw new ForbiddenError('Only the unit ordered to rectify reports on it.', 'NOT_ORDERED_UNIT');
    requireRole(p, 'unit_admin');
    return this.step(
      p,
      'rectification',
      id,
      {
        action: 'report',
        apply: (c) => {
          c.deadline = null;
          return 'reported';
        },
        document: { kind: 'report', text: input.text, attachments: input.attachments },
      },
      traceparent,
    );
  }

  async acceptReport(p: Principal, id: string, comment: string | undefined, traceparent?: string) {
    await this.visible(p, 'rectification', id);
    requireRole(p, 'office_admin');
    return this.step(
      p,
      'rectification',
      id,
      { action: 'accept', apply: (c) => this.close(c, 'rectified'), document: { kind: 'review', text: comment ?? 'Rectification accepted.', outcome: { accepted: true } } },
      traceparent,
    );
  }

  /** Sends a report back: the order is open again until its due date; the second time it becomes a circular. */
  async returnReport(p: Principal, id: string, reason: string, traceparent?: string) {
    await this.visible(p, 'rectification', id);
    requireRole(p, 'office_admin');
    return this.step(
      p,
      'rectification',
      id,
      {
        action: 'return',
        apply: async (c, m, emit) => {
          const returns = (c.details.returns ?? 0) + 1;
          c.details = { ...c.details, returns };
          if (returns >= 2) {
            await this.circulate(m, emit, c, p, 'failed_twice', `Rectification order ${c.number} was found not rectified twice; last reason: ${reason}`, traceparent);
            return 'circulated';
          }
          c.deadline = this.endOf(c.details.dueDate!);
          return 'ordered';
        },
        document: { kind: 'review', text: reason, outcome: { accepted: false } },
        reason,
      },
      traceparent,
    );
  }

  // ── reads ─────────────────────────────────────────────────────────────────

  async list(p: Principal, type: CaseType, f: CaseFilter) {
    if (f.cursor !== undefined && !UUID.test(f.cursor)) throw invalidCursor();
    const q = this.db.getRepository(Case).createQueryBuilder('c').where('c.type = :type', { type });
    if (!isOffice(p)) q.andWhere('(c.opened_by_unit_id = :me OR c.against_unit_id = :me)', { me: p.unitId });
    if (f.role === 'opened') q.andWhere('c.opened_by_unit_id = :mine', { mine: p.unitId });
    if (f.role === 'against') q.andWhere('c.against_unit_id = :mine', { mine: p.unitId });
    if (f.unit) q.andWhere('(c.opened_by_unit_id = :unit OR c.against_unit_id = :unit)', { unit: f.unit });
    if (f.status) q.andWhere('c.status = :status', { status: f.status });
    if (f.overdue !== undefined) q.andWhere('c.overdue = :overdue', { overdue: f.overdue });
    if (f.from) q.andWhere('c.created_at >= :from', { from: new Date(f.from) });
    if (f.to) q.andWhere('c.created_at < :to', { to: new Date(f.to) });
    if (f.cursor) q.andWhere('c.id < :cursor', { cursor: f.cursor });
    const limit = f.limit ?? 50;
    const rows = await q
      .orderBy('c.id', 'DESC')
      .take(limit + 1)
      .getMany();
    const items = rows.slice(0, limit);
    return { items: items.map(viewCase), nextCursor: rows.length > limit ? items[items.length - 1].id : null };
  }

  async get(p: Principal, type: CaseType, id: string) {
    return this.detail(this.db.manager, await this.visible(p, type, id));
  }

  /** Circulars are public to every unit (Art. 30: 通报批评), and permanent. */
  async circulars(f: { unit?: string; cursor?: string; limit?: number }) {
    if (f.cursor !== undefined && !UUID.test(f.cursor)) throw invalidCursor();
    const q = this.db.getRepository(Circular).createQueryBuilder('x');
    if (f.unit) q.andWhere('x.unit_id = :unit', { unit: f.unit });
    if (f.cursor) q.andWhere('x.id < :cursor', { cursor: f.cursor });
    const limit = f.limit ?? 50;
    const rows = await q
      .orderBy('x.id', 'DESC')
      .take(limit + 1)
      .getMany();
    const items = rows.slice(0, limit);
    return { items: await this.viewCirculars(items), nextCursor: rows.length > limit ? items[items.length - 1].id : null };
  }

  async circular(id: string) {
    const x = await this.db.getRepository(Circular).findOneBy({ id });
    if (!x) throw new NotFoundError('The circular');
    return (await this.viewCirculars([x]))[0];
  }

  /** Who a call on a case concerns besides the caller (for the audit record of both parties); undefined when none or not visible. */
  async otherParty(id: string, caller: string): Promise<string | undefined> {
    const c = await this.db.getRepository(Case).findOne({ where: { id }, select: { openedByUnitId: true, againstUnitId: true } });
    if (!c) return undefined;
    return caller === c.openedByUnitId ? c.againstUnitId : caller === c.againstUnitId ? c.openedByUnitId : c.againstUnitId;
  }

  // ── time ──────────────────────────────────────────────────────────────────

  /**
   * Deadlines that passed: objections and complaints unanswered are flagged overdue
   * (they count in assessment); an order not reported on by its due date becomes a
   * circular. Rows are claimed with SKIP LOCKED, so every replica may sweep.
   */
  async sweepDeadlines(batch = 500): Promise<{ overdue: number; circulated: number }> {
    const now = this.clock.now();
    return this.events.transaction(async (m, emit) => {
      const due = await m
        .getRepository(Case)
        .createQueryBuilder('c')
        .where('NOT c.overdue AND c.deadline IS NOT NULL AND c.deadline <= :now', { now })
        .orderBy('c.deadline', 'ASC')
        .take(batch)
        .setLock('pessimistic_write')
        .setOnLocked('skip_locked')
        .getMany();
      let circulated = 0;
      for (const c of due) {
        const from = c.status;
        assertCaseTransition(c.type, c.status, 'overdue');
        c.overdue = true;
        c.overdueAt = now;
        const deadline = c.deadline!;
        if (c.type === 'rectification') {
          await this.circulate(m, emit, c, 'system', 'overdue', `Rectification order ${c.number} was not reported on by its due date ${c.details.dueDate}.`);
          c.status = 'circulated';
          circulated++;
        }
        await this.save(m, c);
        await recordTransition(m, { subjectType: 'case', subjectId: c.id, action: 'overdue', from, to: c.status, actor: 'system', at: now, reason: `deadline ${deadline.toISOString()} passed` });
        emit(createEvent('case.overdue', { actor: { kind: 'system' }, subject: c.id, data: { ...caseEventData(c, from, 'overdue', 'system'), deadline: deadline.toISOString() }, occurredAt: now }));
      }
      return { overdue: due.length - circulated, circulated };
    });
  }

  // ── machinery ─────────────────────────────────────────────────────────────

  private async open(
    p: Principal,
    type: CaseType,
    now: Date,
    o: {
      status: CaseStatus;
      againstUnitId: string;
      resourceCode: string | null;
      summary: string;
      deadline: Date | null;
      details: CaseDetails;
      document: Written;
      traceparent?: string;
      also?: (m: EntityManager, c: Case) => Promise<void>;
    },
  ) {
    return this.events.transaction(async (m, emit) => {
      const c = Object.assign(new Case(), {
        id: uuidv7(),
        type,
        number: await nextNumber(m, PREFIX[type], this.calendar.localDate(now)),
        status: o.status,
        openedByUnitId: p.unitId,
        openedBy: p.subject,
        againstUnitId: o.againstUnitId,
        resourceCode: o.resourceCode,
        summary: o.summary.trim().slice(0, 500),
        deadline: o.deadline,
        overdue: false,
        overdueAt: null,
        closedAt: null,
        details: o.details,
        version: 1,
        // On the service's clock, like every deadline computed from it.
        createdAt: now,
        updatedAt: now,
      });
      await m.getRepository(Case).insert(c);
      await this.write(m, c, p, o.document, now);
      await o.also?.(m, c);
      await recordTransition(m, { subjectType: 'case', subjectId: c.id, action: 'open', from: null, to: c.status, actor: p, at: now, reason: null });
      emit(createEvent('case.opened', { actor: eventActor(p), subject: c.id, data: caseEventData(c, null, 'open', p), traceparent: o.traceparent, occurredAt: now }));
      return this.detail(m, c);
    });
  }

  private async step<T extends CaseType>(p: Principal, type: T, id: string, s: Step<T>, traceparent?: string) {
    const c0 = await this.visible(p, type, id);
    assertCaseTransition(type, c0.status, s.action);
    const now = this.clock.now();
    return this.events.transaction(async (m, emit) => {
      const c = await m.getRepository(Case).findOne({ where: { id, type }, lock: { mode: 'pessimistic_write' } });
      if (!c) throw new NotFoundError(WHAT[type]);
      // A concurrent step made since the first read answers 409 with the state it left.
      assertCaseTransition(type, c.status, s.action);
      const from = c.status;
      c.status = await s.apply(c, m, emit);
      await this.save(m, c);
      if (s.document) await this.write(m, c, p, s.document, now);
      await recordTransition(m, { subjectType: 'case', subjectId: c.id, action: s.action, from, to: c.status, actor: p, at: now, reason: s.reason ?? null });
      emit(createEvent('case.changed', { actor: eventActor(p), subject: c.id, data: caseEventData(c, from, s.action, p), traceparent, occurredAt: now }));
      return this.detail(m, c);
    });
  }

  private async circulate(m: EntityManager, emit: Emit, c: Case, actor: ChangeActor, reason: 'overdue' | 'failed_twice', text: string, traceparent?: string): Promise<void> {
    const now = this.clock.now();
    const x = Object.assign(new Circular(), { id: uuidv7(), number: await nextNumber(m, 'TB', this.calendar.localDate(now)), caseId: c.id, unitId: c.againstUnitId, reason, text, publishedAt: now });
    await m.getRepository(Circular).insert(x);
    c.details = { ...c.details, circularId: x.id };
    c.deadline = null;
    c.closedAt = now;
    emit(
      createEvent('case.circulated', {
        actor: eventActor(actor),
        subject: c.id,
        data: { ...caseEventData({ ...c, status: 'circulated' } as Case, c.status, 'circulate', actor), circularId: x.id, circularNumber: x.number },
        traceparent,
        occurredAt: now,
      }),
    );
  }

  private close(c: Case, status: CaseStatus): CaseStatus {
    c.deadline = null;
    c.closedAt = this.clock.now();
    return status;
  }

  private endOf(isoDate: string): Date {
    return this.calendar.endOfDate(isoDate);
  }

  private async write(m: EntityManager, c: Case, p: Principal, d: Written, at: Date): Promise<void> {
    await m.getRepository(CaseDocument).insert({
      id: uuidv7(),
      caseId: c.id,
      kind: d.kind,
      authorUnitId: p.unitId,
      authorKind: p.kind,
      authorId: p.subject,
      text: d.text,
      attachments: d.attachments ?? [],
      outcome: (d.outcome ?? null) as never,
      at,
    });
  }

  private async visible(p: Principal, type: CaseType, id: string): Promise<Case> {
    const c = await this.db.getRepository(Case).findOneBy({ id, type });
    if (!c || !(isOffice(p) || p.unitId === c.openedByUnitId || p.unitId === c.againstUnitId)) throw new NotFoundError(WHAT[type]);
    return c;
  }

  private async requireOpener(p: Principal, type: CaseType, id: string, code: string): Promise<Case> {
    const c = await this.visible(p, type, id);
    if (p.unitId !== c.openedByUnitId) throw new ForbiddenError(`Only the unit that opened ${c.number} may do this.`, code);
    requireRole(p, 'unit_admin', 'unit_operator');
    return c;
  }

  private async save(m: EntityManager, c: Case): Promise<void> {
    c.version += 1;
    await m
      .getRepository(Case)
      .update(
        { id: c.id },
        { status: c.status, deadline: c.deadline, overdue: c.overdue, overdueAt: c.overdueAt, closedAt: c.closedAt, details: c.details, version: c.version, updatedAt: this.clock.now() },
      );
  }

  private async detail(m: EntityManager, c0: Case) {
    // One after another: inside a transaction the manager holds a single connection.
    const c = await m.getRepository(Case).findOneByOrFail({ id: c0.id });
    const documents = await m.getRepository(CaseDocument).find({ where: { caseId: c0.id }, order: { at: 'ASC', id: 'ASC' } });
    const transitions = await m.getRepository(Transition).find({ where: { subjectId: c0.id, subjectType: 'case' }, order: { at: 'ASC', id: 'ASC' } });
    return {
      ...viewCase(c),
      documents: documents.map((d) => ({
        id: d.id,
        kind: d.kind,
        authorUnitId: d.authorUnitId,
        authorKind: d.authorKind,
        authorId: d.authorId,
        text: d.text,
        attachments: d.attachments,
        outcome: d.outcome,
        at: d.at.toISOString(),
      })),
      transitions: transitions.map(viewTransition),
    };
  }

  private async viewCirculars(xs: Circular[]) {
    const cases = xs.length ? await this.db.getRepository(Case).find({ where: { id: In(xs.map((x) => x.caseId)) }, select: { id: true, number: true } }) : [];
    const numbers = new Map(cases.map((c) => [c.id, c.number]));
    return xs.map((x) => ({
      id: x.id,
      number: x.number,
      caseId: x.caseId,
      caseNumber: numbers.get(x.caseId) ?? '',
      unitId: x.unitId,
      reason: x.reason,
      text: x.text,
      publishedAt: x.publishedAt.toISOString(),
    }));
  }
}

export function viewCase(c: Case) {
  const d = c.details;
  const typed =
    c.type === 'objection'
      ? { recordKeys: d.recordKeys ?? [], items: d.items ?? [], ...(d.grantId ? { grantId: d.grantId } : {}), rectificationIds: d.rectificationIds ?? [] }
      : c.type === 'complaint'
        ? { category: d.category as never, requestId: d.requestId ?? null, assigneeId: d.assigneeId ?? null, rectificationIds: d.rectificationIds ?? [] }
        : { problems: d.problems ?? [], dueDate: d.dueDate!, returns: d.returns ?? 0, originCaseId: d.originCaseId ?? null, circularId: d.circularId ?? null };
  return {
    id: c.id,
    number: c.number,
    type: c.type,
    status: c.status,
    openedByUnitId: c.openedByUnitId,
    openedBy: c.openedBy,
    againstUnitId: c.againstUnitId,
    resourceCode: c.resourceCode,
    summary: c.summary,
    deadline: c.deadline?.toISOString() ?? null,
    overdue: c.overdue,
    overdueAt: c.overdueAt?.toISOString() ?? null,
    closedAt: c.closedAt?.toISOString() ?? null,
    createdAt: c.createdAt.toISOString(),
    updatedAt: c.updatedAt.toISOString(),
    version: c.version,
    ...typed,
  };
}

function caseEventData(c: Case, from: CaseStatus | null, action: string, actor: ChangeActor) {
  const actorUnit = actor === 'system' ? null : actor.unitId;
  return {
    caseId: c.id,
    number: c.number,
    caseType: c.type,
    status: c.status,
    fromStatus: from,
    action,
    openedByUnitId: c.openedByUnitId,
    againstUnitId: c.againstUnitId,
    ownerUnitId: actorUnit === c.againstUnitId ? c.openedByUnitId : c.againstUnitId,
    resourceCode: c.resourceCode,
    deadline: c.deadline?.toISOString() ?? null,
    overdue: c.overdue,
  };
}
