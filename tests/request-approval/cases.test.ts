import request from 'supertest';
import type { App } from '@gdx/service-kit';
import { personOf } from '@gdx/data-query/testing';
import { startPlatform, type TestPlatform } from '../helpers/platform';
import { bearer, cast, enc, eventually, FakeClock, grantThroughRequest, publishReference, streamEvents, type Cast } from './support';

const CODE = '101001/0001';
const OTHER = '102001/0001';
const sha = (c: string) => c.repeat(64);
const evidence = [{ name: '比对结果.xlsx', size: 2048, sha256: sha('a'), mediaType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' }];

/**
 * The supervisory cases of issue 14 through the gateway, with real PostgreSQL and Redis and
 * the real catalogue, request-approval and data-query (the batches an objection names are
 * real ones). Deadlines run on a clock the test moves, across a configured holiday
 * (Thu 10 Dec 2026) and make-up working day (Sat 12 Dec 2026); the sweep is called as the
 * timer would.
 */
describe('objections, complaints and rectification orders', () => {
  const clock = new FakeClock(Date.now());
  let p: TestPlatform & { approval: App };
  let c: Cast;
  const api = () => request(p.gatewayUrl);
  const sweep = () => p.approval.approval.sweep();
  /** Mon 7 Dec 2026, 10:00 in Beijing. */
  const MONDAY = '2026-12-07T02:00:00Z';

  beforeAll(async () => {
    const platform = await startPlatform(['catalogue', 'request-approval', 'data-query'], {
      config: { 'request-approval': { sweepIntervalMs: 0, extraHolidays: '2026-12-10', extraWorkingDays: '2026-12-12' } },
      app: { 'request-approval': { clock } },
    });
    p = Object.assign(platform, { approval: platform.services['request-approval']! });
    c = await cast(p.gateway);
    await publishReference(p.gatewayUrl, CODE, c.ga, c.office);
    await publishReference(p.gatewayUrl, OTHER, c.scjg, c.office);
    // 人社局 receives 公安局's population data: the ground of its objections.
    await grantThroughRequest(p.gatewayUrl, { applicant: c.rs, provider: c.ga, office: c.office }, CODE, ['idNumber', 'name', 'regionCode']);
  });
  afterAll(() => p?.close());

  async function batch(rows: number[]): Promise<number> {
    const body = rows
      .map((i) => JSON.stringify({ idNumber: personOf(i).idNumber, name: `更正${i}`, sex: personOf(i).sex, birthDate: personOf(i).birthDate, regionCode: personOf(i).regionCode }))
      .join('\n');
    const res = await api()
      .post(`/api/v1/data/${enc(CODE)}/batches`)
      .set(bearer(c.ga))
      .set('content-type', 'application/x-ndjson')
      .send(body)
      .expect(200);
    const seq = res.body.changeSeq as number;
    // request-approval learns of accepted batches from data.updated.
    await eventually(async () => (await p.approval.db.query('SELECT 1 FROM known_batch WHERE resource_code = $1 AND change_seq = $2', [CODE, seq])).length > 0, 15_000, `batch ${seq} known`);
    return seq;
  }

  const objection = (who = c.rsOperator, extra: Record<string, unknown> = {}) =>
    api()
      .post('/api/v1/objections')
      .set(bearer(who))
      .send({ resourceCode: CODE, recordKeys: [personOf(0).idNumber], items: ['name'], description: '姓名与户籍登记不一致', attachments: evidence, ...extra });

  describe('objection (异议)', () => {
    it('is answered corrected with a later batch (an older or unknown one is refused), accepted and closed; its texts cannot be changed', async () => {
      clock.set(new Date());
      const older = await batch([0, 1]);
      // Opened after the first batch was accepted and before the second.
      clock.set(new Date());
      const opened = (await objection().expect(201)).body;
      expect(opened).toMatchObject({
        type: 'objection',
        status: 'awaiting_answer',
        openedByUnitId: c.rs.unitId,
        againstUnitId: c.ga.unitId,
        resourceCode: CODE,
        recordKeys: [personOf(0).idNumber],
        items: ['name'],
        overdue: false,
      });
      expect(opened.number).toMatch(/^YY-\d{4}-\d{4}$/);
      expect(opened.documents).toEqual([expect.objectContaining({ kind: 'statement', text: '姓名与户籍登记不一致', attachments: evidence, authorUnitId: c.rs.unitId })]);

      // Only the provider answers, and only a real correction later than the objection counts.
      const answer = (who: Cast['ga'], body: Record<string, unknown>) => api().post(`/api/v1/objections/${opened.id}/answer`).set(bearer(who)).send(body);
      expect((await answer(c.rs, { outcome: 'confirmed', text: '无误' }).expect(403)).body.code).toBe('NOT_PROVIDER');
      expect((await answer(c.ga, { outcome: 'corrected', text: '已更正' }).expect(400)).body.code).toBe('CHANGE_SEQ_REQUIRED');
      expect((await answer(c.ga, { outcome: 'corrected', changeSeq: 999, text: '已更正' }).expect(400)).body).toMatchObject({ code: 'UNKNOWN_BATCH', field: 'body.changeSeq' });
      expect((await answer(c.ga, { outcome: 'corrected', changeSeq: older, text: '已更正' }).expect(400)).body).toMatchObject({ code: 'BATCH_NOT_LATER', field: 'body.changeSeq' });
      expect((await answer(c.ga, { outcome: 'confirmed', changeSeq: older, text: '无误' }).expect(400)).body.code).toBe('CHANGE_SEQ_NOT_ALLOWED');
      const later = await batch([0]);
      const answered = (await answer(c.ga, { outcome: 'corrected', changeSeq: later, text: '已于批次更正', attachments: evidence }).expect(200)).body;
      expect(answered).toMatchObject({ status: 'answered', deadline: null });
      expect(answered.documents[1]).toMatchObject({ kind: 'answer', authorUnitId: c.ga.unitId, outcome: { outcome: 'corrected', changeSeq: later } });
      // Written once: a second answer is an illegal step, with the state it found.
      expect((await answer(c.ga, { outcome: 'confirmed', text: '改口' }).expect(409)).body).toMatchObject({ code: 'ILLEGAL_TRANSITION', currentStatus: 'answered' });

      expect((await api().post(`/api/v1/objections/${opened.id}/accept`).set(bearer(c.ga)).send({}).expect(403)).body.code).toBe('NOT_OBJECTOR');
      const closed = (await api().post(`/api/v1/objections/${opened.id}/accept`).set(bearer(c.rs)).send({ comment: '认可' }).expect(200)).body;
      expect(closed).toMatchObject({ status: 'closed' });
      expect(closed.closedAt).not.toBeNull();
      expect(closed.transitions.map((t: { action: string; to: string }) => `${t.action}:${t.to}`)).toEqual(['open:awaiting_answer', 'answer:answered', 'accept:closed']);
      expect((await api().post(`/api/v1/objections/${opened.id}/escalate`).set(bearer(c.rs)).send({ reason: '再议' }).expect(409)).body).toMatchObject({
        code: 'ILLEGAL_TRANSITION',
        currentStatus: 'closed',
      });

      // Written answers are evidence: the database itself refuses to change or remove them.
      await expect(p.approval.db.query(`UPDATE case_document SET text = 'x' WHERE case_id = $1`, [opened.id])).rejects.toThrow(/append-only/);
      await expect(p.approval.db.query(`DELETE FROM case_document WHERE case_id = $1`, [opened.id])).rejects.toThrow(/append-only/);

      await p.approval.relay.drain();
      const events = (await streamEvents(p.prefix, 'case')).filter((e) => e.subject === opened.id);
      expect(events.map((e) => `${e.type}:${e.data.action as string}`)).toEqual(['case.opened:open', 'case.changed:answer', 'case.changed:accept']);
      // The other party is named on each, so the record is both units'.
      expect(events.map((e) => e.data.ownerUnitId)).toEqual([c.ga.unitId, c.rs.unitId, c.ga.unitId]);
    });

    it('is refused without a grant for the resource, and for an item outside the grant', async () => {
      clock.set(new Date());
      expect((await objection(c.strangers[0]).expect(403)).body.code).toBe('NO_GRANT');
      expect((await objection(c.rs, { items: ['name', 'sex'] }).expect(400)).body).toMatchObject({ code: 'ITEM_NOT_GRANTED', field: 'body.items[1]' });
      expect((await objection(c.rs, { resourceCode: OTHER }).expect(403)).body.code).toBe('NO_GRANT');
      expect((await objection(c.office).expect(403)).body.code).toBe('ROLE_REQUIRED');
    });

    it('answered confirmed, is escalated and decided by the office', async () => {
      clock.set(new Date());
      const opened = (await objection().expect(201)).body;
      await api().post(`/api/v1/objections/${opened.id}/answer`).set(bearer(c.ga)).send({ outcome: 'confirmed', text: '经核实数据无误' }).expect(200);
      const escalated = (await api().post(`/api/v1/objections/${opened.id}/escalate`).set(bearer(c.rsOperator)).send({ reason: '与户籍底册不符' }).expect(200)).body;
      expect(escalated.status).toBe('office_review');
      expect((await api().post(`/api/v1/objections/${opened.id}/decide`).set(bearer(c.ga)).send({ decision: 'dismissed', text: '驳回' }).expect(403)).body.code).toBe('ROLE_REQUIRED');
      expect((await api().post(`/api/v1/objections/${opened.id}/decide`).set(bearer(c.auditor)).send({ decision: 'dismissed', text: '驳回' }).expect(403)).body.code).toBe('ROLE_REQUIRED');
      const decided = (await api().post(`/api/v1/objections/${opened.id}/decide`).set(bearer(c.office)).send({ decision: 'upheld', text: '异议成立，责令更正' }).expect(200)).body;
      expect(decided).toMatchObject({ status: 'closed' });
      expect(decided.documents.map((d: { kind: string }) => d.kind)).toEqual(['statement', 'answer', 'escalation', 'decision']);
      expect(decided.documents[3].outcome).toEqual({ decision: 'upheld' });
      expect((await api().post(`/api/v1/objections/${opened.id}/withdraw`).set(bearer(c.rs)).send({}).expect(409)).body.currentStatus).toBe('closed');
    });

    it('is due in 5 working days across a holiday, flagged overdue by the sweeper, and may then be escalated unanswered', async () => {
      clock.set(MONDAY);
      const opened = (await objection().expect(201)).body;
      // Tue 8, Wed 9, (Thu 10 holiday), Fri 11, Sat 12 (make-up day), Mon 14: due by midnight Beijing time.
      expect(opened.deadline).toBe('2026-12-14T16:00:00.000Z');
      expect((await api().post(`/api/v1/objections/${opened.id}/escalate`).set(bearer(c.rs)).send({ reason: '未答复' }).expect(409)).body.code).toBe('NOT_YET_OVERDUE');

      clock.set('2026-12-14T15:59:59Z');
      expect((await sweep()).overdueCases).toBe(0);
      clock.set('2026-12-14T16:00:00Z');
      expect((await sweep()).overdueCases).toBe(1);
      expect((await sweep()).overdueCases).toBe(0);
      for (const who of [c.office, c.rs, c.ga]) {
        const listed = (await api().get('/api/v1/objections?overdue=true').set(bearer(who)).expect(200)).body.items;
        expect(listed.map((x: { id: string }) => x.id)).toContain(opened.id);
      }
      for (const s of c.strangers) expect((await api().get('/api/v1/objections?overdue=true').set(bearer(s)).expect(200)).body.items).toEqual([]);
      const seen = (await api().get(`/api/v1/objections/${opened.id}`).set(bearer(c.rs)).expect(200)).body;
      expect(seen).toMatchObject({ overdue: true, overdueAt: '2026-12-14T16:00:00.000Z', status: 'awaiting_answer' });
      expect(seen.transitions.map((t: { action: string; actorKind: string }) => `${t.action}:${t.actorKind}`)).toEqual(['open:account', 'overdue:system']);
      await p.approval.relay.drain();
      expect((await streamEvents(p.prefix, 'case')).filter((e) => e.subject === opened.id && e.type === 'case.overdue')).toHaveLength(1);

      const escalated = (await api().post(`/api/v1/objections/${opened.id}/escalate`).set(bearer(c.rs)).send({ reason: '逾期未答复' }).expect(200)).body;
      expect(escalated).toMatchObject({ status: 'office_review', overdue: true });
    });
  });

  describe('complaint (投诉)', () => {
    const complaint = (who = c.rs, extra: Record<string, unknown> = {}) =>
      api()
        .post('/api/v1/complaints')
        .set(bearer(who))
        .send({ respondentUnitId: c.ga.unitId, category: 'late_provision', description: '申请逾期未答复', resourceCode: CODE, attachments: evidence, ...extra });

    it('is assigned, investigated and answered by the office within 15 working days; a rectification order may follow', async () => {
      clock.set(MONDAY);
      const opened = (await complaint().expect(201)).body;
      expect(opened).toMatchObject({ type: 'complaint', status: 'submitted', category: 'late_provision', againstUnitId: c.ga.unitId, assigneeId: null });
      expect(opened.number).toMatch(/^TS-2026-\d{4}$/);
      // 15 working days from Mon 7 Dec, skipping Thu 10 and counting Sat 12: Mon 28 Dec.
      expect(opened.deadline).toBe('2026-12-28T16:00:00.000Z');

      expect((await api().post(`/api/v1/complaints/${opened.id}/answer`).set(bearer(c.office)).send({ finding: 'substantiated', text: '属实' }).expect(409)).body.currentStatus).toBe('submitted');
      expect((await api().post(`/api/v1/complaints/${opened.id}/assign`).set(bearer(c.ga)).send({ assigneeId: 'office.inspector' }).expect(403)).body.code).toBe('ROLE_REQUIRED');
      expect((await api().post(`/api/v1/complaints/${opened.id}/assign`).set(bearer(c.office)).send({ assigneeId: 'office.inspector' }).expect(200)).body).toMatchObject({
        status: 'investigating',
        assigneeId: 'office.inspector',
      });
      const answered = (await api().post(`/api/v1/complaints/${opened.id}/answer`).set(bearer(c.office)).send({ finding: 'substantiated', text: '经查属实' }).expect(200)).body;
      expect(answered).toMatchObject({ status: 'answered', deadline: null });
      expect((await api().post(`/api/v1/complaints/${opened.id}/withdraw`).set(bearer(c.rs)).send({}).expect(409)).body.currentStatus).toBe('answered');

      // From the complaint, an order against the same unit (and not another).
      const order = (
        await api()
          .post('/api/v1/rectifications')
          .set(bearer(c.office))
          .send({ unitId: c.ga.unitId, problems: ['按期答复共享申请'], dueDate: '2026-12-31', originCaseId: opened.id })
          .expect(201)
      ).body;
      expect(order).toMatchObject({ type: 'rectification', originCaseId: opened.id, resourceCode: CODE });
      expect((await api().get(`/api/v1/complaints/${opened.id}`).set(bearer(c.rs)).expect(200)).body.rectificationIds).toEqual([order.id]);
      expect(
        (
          await api()
            .post('/api/v1/rectifications')
            .set(bearer(c.office))
            .send({ unitId: c.scjg.unitId, problems: ['x'], dueDate: '2026-12-31', originCaseId: opened.id })
            .expect(400)
        ).body.code,
      ).toBe('ORIGIN_MISMATCH');
    });

    it('is refused against the complainant itself or a unit that does not exist; only the complainant withdraws; overdue is flagged', async () => {
      clock.set(MONDAY);
      expect((await complaint(c.rs, { respondentUnitId: c.rs.unitId }).expect(400)).body.code).toBe('OWN_UNIT');
      expect((await complaint(c.rs, { respondentUnitId: '00000000-0000-4000-8000-000000000001' }).expect(400)).body.code).toBe('UNKNOWN_UNIT');
      expect((await complaint(c.rs, { category: 'gossip' }).expect(400)).body.code).toBe('VALIDATION_FAILED');
      const opened = (await complaint().expect(201)).body;
      expect((await api().post(`/api/v1/complaints/${opened.id}/withdraw`).set(bearer(c.ga)).send({}).expect(403)).body.code).toBe('NOT_COMPLAINANT');
      clock.set('2026-12-28T16:00:00Z');
      expect((await sweep()).overdueCases).toBeGreaterThanOrEqual(1);
      expect((await api().get(`/api/v1/complaints/${opened.id}`).set(bearer(c.ga)).expect(200)).body).toMatchObject({ overdue: true, status: 'submitted' });
      expect((await api().get('/api/v1/complaints?overdue=true&role=against').set(bearer(c.ga)).expect(200)).body.items.map((x: { id: string }) => x.id)).toContain(opened.id);
      const withdrawn = (await api().post(`/api/v1/complaints/${opened.id}/withdraw`).set(bearer(c.rs)).send({ reason: '已解决' }).expect(200)).body;
      expect(withdrawn).toMatchObject({ status: 'withdrawn', overdue: true });
    });
  });

  describe('rectification order (限期整改)', () => {
    const order = (dueDate: string, who = c.office) =>
      api()
        .post('/api/v1/rectifications')
        .set(bearer(who))
        .send({ unitId: c.ga.unitId, problems: ['数据更新不及时', '拒绝共享无法律依据'], dueDate });

    it('is reported on and accepted; only the office orders and decides, only the unit ordered reports', async () => {
      clock.set(MONDAY);
      expect((await order('2026-12-07').expect(400)).body.code).toBe('DUE_DATE_NOT_FUTURE');
      expect((await order('2026-12-18', c.ga).expect(403)).body.code).toBe('ROLE_REQUIRED');
      const opened = (await order('2026-12-18').expect(201)).body;
      expect(opened).toMatchObject({ status: 'ordered', dueDate: '2026-12-18', deadline: '2026-12-18T16:00:00.000Z', returns: 0, againstUnitId: c.ga.unitId, openedByUnitId: c.office.unitId });
      expect(opened.number).toMatch(/^ZG-2026-\d{4}$/);
      expect(opened.documents[0].text).toBe('1. 数据更新不及时\n2. 拒绝共享无法律依据');
      expect((await api().post(`/api/v1/rectifications/${opened.id}/report`).set(bearer(c.office)).send({ text: '代报' }).expect(403)).body.code).toBe('NOT_ORDERED_UNIT');
      const reported = (await api().post(`/api/v1/rectifications/${opened.id}/report`).set(bearer(c.ga)).send({ text: '已建立更新机制', attachments: evidence }).expect(200)).body;
      expect(reported).toMatchObject({ status: 'reported', deadline: null });
      expect((await api().post(`/api/v1/rectifications/${opened.id}/accept`).set(bearer(c.ga)).send({}).expect(403)).body.code).toBe('ROLE_REQUIRED');
      expect((await api().post(`/api/v1/rectifications/${opened.id}/accept`).set(bearer(c.office)).send({ comment: '整改到位' }).expect(200)).body).toMatchObject({ status: 'rectified' });
      expect((await api().post(`/api/v1/rectifications/${opened.id}/report`).set(bearer(c.ga)).send({ text: '又一次' }).expect(409)).body.currentStatus).toBe('rectified');
    });

    it('sent back twice becomes a circular published to every unit, permanent', async () => {
      clock.set(MONDAY);
      const opened = (await order('2026-12-18').expect(201)).body;
      const report = () => api().post(`/api/v1/rectifications/${opened.id}/report`).set(bearer(c.ga)).send({ text: '已整改' }).expect(200);
      await report();
      const back = (await api().post(`/api/v1/rectifications/${opened.id}/return`).set(bearer(c.office)).send({ reason: '整改不到位' }).expect(200)).body;
      expect(back).toMatchObject({ status: 'ordered', returns: 1, deadline: '2026-12-18T16:00:00.000Z' });
      await report();
      const failed = (await api().post(`/api/v1/rectifications/${opened.id}/return`).set(bearer(c.office)).send({ reason: '仍不到位' }).expect(200)).body;
      expect(failed).toMatchObject({ status: 'circulated', returns: 2, deadline: null });
      expect(failed.circularId).toEqual(expect.any(String));

      // Every unit sees the circular, the strangers to the case included; the case itself stays its parties'.
      for (const who of [c.office, c.ga, c.rs, ...c.strangers]) {
        const listed = (await api().get('/api/v1/rectifications/circulars').set(bearer(who)).expect(200)).body.items;
        expect(listed).toContainEqual(expect.objectContaining({ id: failed.circularId, caseId: opened.id, caseNumber: opened.number, unitId: c.ga.unitId, reason: 'failed_twice' }));
      }
      const circular = (await api().get(`/api/v1/rectifications/circulars/${failed.circularId}`).set(bearer(c.strangers[0])).expect(200)).body;
      expect(circular.number).toMatch(/^TB-2026-\d{4}$/);
      await api().get(`/api/v1/rectifications/${opened.id}`).set(bearer(c.strangers[0])).expect(404);
      await expect(p.approval.db.query(`DELETE FROM circular WHERE id = $1`, [failed.circularId])).rejects.toThrow(/append-only/);
      await p.approval.relay.drain();
      const circulated = (await streamEvents(p.prefix, 'case')).filter((e) => e.type === 'case.circulated' && e.subject === opened.id);
      expect(circulated).toHaveLength(1);
      expect(circulated[0].data).toMatchObject({ circularId: failed.circularId, circularNumber: circular.number, status: 'circulated', againstUnitId: c.ga.unitId });
    });

    it('not reported on by the end of its due date becomes a circular at the sweep', async () => {
      clock.set(MONDAY);
      const opened = (await order('2026-12-09').expect(201)).body;
      clock.set('2026-12-09T15:59:59Z');
      expect((await sweep()).circulated).toBe(0);
      clock.set('2026-12-09T16:00:00Z');
      expect((await sweep()).circulated).toBe(1);
      const seen = (await api().get(`/api/v1/rectifications/${opened.id}`).set(bearer(c.ga)).expect(200)).body;
      expect(seen).toMatchObject({ status: 'circulated', overdue: true });
      const listed = (await api().get(`/api/v1/rectifications/circulars?unit=${c.ga.unitId}`).set(bearer(c.strangers[2])).expect(200)).body.items;
      expect(listed).toContainEqual(expect.objectContaining({ id: seen.circularId, reason: 'overdue' }));
      expect((await api().post(`/api/v1/rectifications/${opened.id}/report`).set(bearer(c.ga)).send({ text: '迟报' }).expect(409)).body.currentStatus).toBe('circulated');
    });
  });

  it('every case route refuses a third unit as if the case did not exist, and lists never show it', async () => {
    clock.set(new Date());
    const obj = (await objection().expect(201)).body;
    const cmp = (await api().post('/api/v1/complaints').set(bearer(c.rs)).send({ respondentUnitId: c.ga.unitId, category: 'stale_data', description: '数据陈旧' }).expect(201)).body;
    const ord = (
      await api()
        .post('/api/v1/rectifications')
        .set(bearer(c.office))
        .send({ unitId: c.rs.unitId, problems: ['未按规定使用数据'], dueDate: '2099-01-01' })
        .expect(201)
    ).body;
    const routes: [string, string, Record<string, unknown>][] = [
      ['get', `/api/v1/objections/${obj.id}`, {}],
      ['post', `/api/v1/objections/${obj.id}/answer`, { outcome: 'confirmed', text: 'x' }],
      ['post', `/api/v1/objections/${obj.id}/accept`, {}],
      ['post', `/api/v1/objections/${obj.id}/escalate`, { reason: 'x' }],
      ['post', `/api/v1/objections/${obj.id}/decide`, { decision: 'upheld', text: 'x' }],
      ['post', `/api/v1/objections/${obj.id}/withdraw`, {}],
      ['get', `/api/v1/complaints/${cmp.id}`, {}],
      ['post', `/api/v1/complaints/${cmp.id}/assign`, { assigneeId: 'x' }],
      ['post', `/api/v1/complaints/${cmp.id}/answer`, { finding: 'substantiated', text: 'x' }],
      ['post', `/api/v1/complaints/${cmp.id}/withdraw`, {}],
      ['get', `/api/v1/rectifications/${ord.id}`, {}],
      ['post', `/api/v1/rectifications/${ord.id}/report`, { text: 'x' }],
      ['post', `/api/v1/rectifications/${ord.id}/accept`, {}],
      ['post', `/api/v1/rectifications/${ord.id}/return`, { reason: 'x' }],
    ];
    for (const stranger of c.strangers) {
      for (const [method, url, body] of routes) {
        const res = method === 'get' ? await api().get(url).set(bearer(stranger)) : await api().post(url).set(bearer(stranger)).send(body);
        expect([url, res.status, res.body.code]).toEqual([url, 404, 'NOT_FOUND']);
      }
      for (const area of ['objections', 'complaints', 'rectifications']) {
        const ids = (await api().get(`/api/v1/${area}?unit=${c.rs.unitId}`).set(bearer(stranger)).expect(200)).body.items.map((x: { id: string }) => x.id);
        expect(ids).toEqual([]);
      }
    }
    // Nothing changed: every case is as it was opened.
    expect((await api().get(`/api/v1/objections/${obj.id}`).set(bearer(c.rs)).expect(200)).body.version).toBe(1);
    expect((await api().get(`/api/v1/complaints/${cmp.id}`).set(bearer(c.ga)).expect(200)).body.version).toBe(1);
    expect((await api().get(`/api/v1/rectifications/${ord.id}`).set(bearer(c.rs)).expect(200)).body.version).toBe(1);
    // The office sees all three; each party sees its own, either side.
    for (const [area, id] of [
      ['objections', obj.id],
      ['complaints', cmp.id],
      ['rectifications', ord.id],
    ]) {
      expect((await api().get(`/api/v1/${area}`).set(bearer(c.auditor)).expect(200)).body.items.map((x: { id: string }) => x.id)).toContain(id);
    }
    expect((await api().get('/api/v1/objections?role=against').set(bearer(c.ga)).expect(200)).body.items.map((x: { id: string }) => x.id)).toContain(obj.id);
    expect((await api().get('/api/v1/objections?role=against').set(bearer(c.rs)).expect(200)).body.items.map((x: { id: string }) => x.id)).not.toContain(obj.id);
    expect((await api().get('/api/v1/objections?cursor=nope').set(bearer(c.rs)).expect(400)).body.code).toBe('INVALID_CURSOR');
  });

  it('lists by state, overdue, unit and period with cursor paging', async () => {
    clock.set(new Date());
    const from = new Date(clock.now().getTime() - 1).toISOString();
    const mine: string[] = [];
    for (let i = 0; i < 3; i++)
      mine.push(
        (
          await api()
            .post('/api/v1/complaints')
            .set(bearer(c.rs))
            .send({ respondentUnitId: c.scjg.unitId, category: 'misuse', description: `第${i}件` })
            .expect(201)
        ).body.id,
      );
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: { body: { items: { id: string }[]; nextCursor: string | null } } = await api()
        .get(`/api/v1/complaints?unit=${c.scjg.unitId}&status=submitted&from=${enc(from)}&limit=2${cursor ? `&cursor=${cursor}` : ''}`)
        .set(bearer(c.office))
        .expect(200);
      seen.push(...res.body.items.map((x) => x.id));
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual([...mine].reverse());
    expect(
      (
        await api()
          .get(`/api/v1/complaints?unit=${c.scjg.unitId}&to=${enc(from)}`)
          .set(bearer(c.office))
          .expect(200)
      ).body.items,
    ).toEqual([]);
  });
});
