import { streamKey } from '@gdx/events';
import request from 'supertest';
import type { TestPlatform } from '../helpers/platform';
import { bearer, cast, publishReference, requestBody, startApprovalPlatform, streamEvents, window, type Cast } from './support';

const CODE = '101001/0001'; // 人口基本信息, GA, conditional; query keys idNumber, regionCode

describe('conditional sharing: provider review, office confirmation, grants', () => {
  let p: TestPlatform & { approval: import('@gdx/service-kit').App };
  let c: Cast;
  const api = () => request(p.gatewayUrl);
  const file = async (extra: Record<string, unknown> = {}) =>
    (
      await api()
        .post('/api/v1/requests')
        .set(bearer(c.rs))
        .send(requestBody(CODE, ['idNumber', 'name', 'sex', 'regionCode'], extra))
        .expect(201)
    ).body;

  beforeAll(async () => {
    p = await startApprovalPlatform();
    c = await cast(p.gateway);
    await publishReference(p.gatewayUrl, CODE, c.ga, c.office);
  });
  afterAll(() => p?.close());

  it('goes to the provider with a deadline, then to the office, and the office’s confirmation issues the narrowed grant', async () => {
    const filed = await file();
    expect(filed).toMatchObject({ track: 'conditional', status: 'provider_review', providerUnitId: c.ga.unitId, delayed: false });
    expect(Date.parse(filed.providerDeadline)).toBeGreaterThan(Date.now() + 10 * 86_400_000);

    const terms = { items: ['idNumber', 'name'], rowFilter: { all: [{ key: 'regionCode', op: 'eq', value: '340302' }] }, rateLimitPerSecond: 5, dailyQuota: 2000, validTo: window(0, 180).validTo };
    const reviewed = await api().post(`/api/v1/requests/${filed.id}/review`).set(bearer(c.ga)).send({ decision: 'approve', terms, comment: '按区县限定' }).expect(200);
    expect(reviewed.body).toMatchObject({
      status: 'office_review',
      providerDeadline: null,
      review: { decision: 'approve', unitId: c.ga.unitId, by: c.ga.id, terms: { items: ['idNumber', 'name'], rowFilter: terms.rowFilter, rateLimitPerSecond: 5, dailyQuota: 2000 } },
    });

    const confirmed = await api().post(`/api/v1/requests/${filed.id}/confirm`).set(bearer(c.office)).send({ decision: 'confirm', comment: '同意' }).expect(200);
    expect(confirmed.body.status).toBe('granted');
    expect(confirmed.body.transitions.map((t: { action: string; to: string; actorId: string }) => [t.action, t.to, t.actorId])).toEqual([
      ['file', 'provider_review', c.rs.id],
      ['review:approve', 'office_review', c.ga.id],
      ['confirm', 'granted', c.office.id],
    ]);

    const grant = (await api().get(`/api/v1/grants/${confirmed.body.grantId}`).set(bearer(c.ga)).expect(200)).body;
    expect(grant).toMatchObject({
      consumerUnitId: c.rs.unitId,
      providerUnitId: c.ga.unitId,
      resourceCode: CODE,
      items: ['idNumber', 'name'],
      rowFilter: terms.rowFilter,
      modes: ['interface'],
      rateLimitPerSecond: 5,
      dailyQuota: 2000,
      validTo: terms.validTo,
      purpose: filed.purpose,
      requestId: filed.id,
      status: 'active',
      version: 1,
    });

    await p.approval.relay.drain();
    const types = (await streamEvents(p.prefix, 'request')).filter((e) => e.subject === filed.id).map((e) => e.type);
    expect(types).toEqual(['request.filed', 'request.submitted', 'request.reviewed', 'request.confirmed']);
    const issued = (await streamEvents(p.prefix, 'grant')).find((e) => e.subject === grant.id);
    expect(issued).toMatchObject({ type: 'grant.issued', data: { id: grant.id, rowFilter: terms.rowFilter, items: ['idNumber', 'name'], status: 'active', version: 1 } });
  });

  it('refuses terms that widen the request or filter on a non-query key, writing nothing', async () => {
    const filed = await file();
    const url = `/api/v1/requests/${filed.id}/review`;
    const cases: [Record<string, unknown>, string, string][] = [
      [{ items: ['idNumber', 'householdAddress'] }, 'ITEMS_NOT_NARROWER', 'body.terms.items[1]'],
      [{ rowFilter: { all: [{ key: 'name', op: 'eq', value: '张三' }] } }, 'ROW_FILTER_KEY_NOT_QUERYABLE', 'body.terms.rowFilter.all[0].key'],
      [{ rowFilter: { all: [{ key: 'regionCode', op: 'between', value: ['340399', '340300'] }] } }, 'ROW_FILTER_INVALID', 'body.terms.rowFilter.all[0].value'],
      [{ validTo: window(0, 400).validTo }, 'VALIDITY_NOT_NARROWER', 'body.terms.validTo'],
      [{ validFrom: window(0, 100).validTo, validTo: window(0, 50).validTo }, 'INVALID_VALIDITY', 'body.terms.validTo'],
    ];
    for (const [terms, code, field] of cases) {
      const res = await api().post(url).set(bearer(c.ga)).send({ decision: 'approve', terms }).expect(400);
      expect({ code: res.body.code, field: res.body.field }).toEqual({ code, field });
    }
    const sql = await api()
      .post(url)
      .set(bearer(c.ga))
      .send({ decision: 'approve', terms: { rowFilter: "region_code = '340302' OR 1=1" } })
      .expect(400);
    expect(sql.body.field).toMatch(/^body\.terms\.rowFilter/);
    const noBasis = await api().post(url).set(bearer(c.ga)).send({ decision: 'refuse', comment: '不想给' }).expect(400);
    expect(noBasis.body).toMatchObject({ code: 'LEGAL_BASIS_REQUIRED', field: 'body.legalBasis' });

    const after = (await api().get(`/api/v1/requests/${filed.id}`).set(bearer(c.rs)).expect(200)).body;
    expect(after).toMatchObject({ status: 'provider_review', review: null, version: 1 });
    expect(after.transitions).toHaveLength(1);
  });

  it('answers 409 ILLEGAL_TRANSITION to approving twice, confirming too early and withdrawing a closed request', async () => {
    const filed = await file();
    const early = await api().post(`/api/v1/requests/${filed.id}/confirm`).set(bearer(c.office)).send({ decision: 'confirm' }).expect(409);
    expect(early.body.code).toBe('ILLEGAL_TRANSITION');
    await api().post(`/api/v1/requests/${filed.id}/review`).set(bearer(c.ga)).send({ decision: 'approve' }).expect(200);
    const twice = await api().post(`/api/v1/requests/${filed.id}/review`).set(bearer(c.ga)).send({ decision: 'approve' }).expect(409);
    expect(twice.body).toMatchObject({ code: 'ILLEGAL_TRANSITION', currentStatus: 'office_review' });
    await api().post(`/api/v1/requests/${filed.id}/confirm`).set(bearer(c.office)).send({ decision: 'confirm' }).expect(200);
    const late = await api().post(`/api/v1/requests/${filed.id}/withdraw`).set(bearer(c.rs)).send({}).expect(409);
    expect(late.body.code).toBe('ILLEGAL_TRANSITION');
  });

  it('decides concurrent approvals once', async () => {
    const filed = await file();
    const results = await Promise.all([1, 2, 3].map(() => api().post(`/api/v1/requests/${filed.id}/review`).set(bearer(c.ga)).send({ decision: 'approve' })));
    expect(results.map((r) => r.status).sort()).toEqual([200, 409, 409]);
    const after = (await api().get(`/api/v1/requests/${filed.id}`).set(bearer(c.office)).expect(200)).body;
    expect(after.transitions.filter((t: { action: string }) => t.action.startsWith('review'))).toHaveLength(1);
  });

  it('lets the office return a review to the provider with a reason, with a new deadline', async () => {
    const filed = await file();
    await api().post(`/api/v1/requests/${filed.id}/review`).set(bearer(c.ga)).send({ decision: 'approve' }).expect(200);
    const noReason = await api().post(`/api/v1/requests/${filed.id}/confirm`).set(bearer(c.office)).send({ decision: 'return' }).expect(400);
    expect(noReason.body).toMatchObject({ code: 'REASON_REQUIRED', field: 'body.comment' });
    const returned = await api().post(`/api/v1/requests/${filed.id}/confirm`).set(bearer(c.office)).send({ decision: 'return', comment: '请按区县限定数据范围' }).expect(200);
    expect(returned.body).toMatchObject({ status: 'provider_review', review: null, officeDecision: { decision: 'return', comment: '请按区县限定数据范围' } });
    expect(returned.body.providerDeadline).toEqual(expect.any(String));
    await api()
      .post(`/api/v1/requests/${filed.id}/review`)
      .set(bearer(c.ga))
      .send({ decision: 'approve', terms: { rowFilter: { all: [{ key: 'regionCode', op: 'in', value: ['340302', '340303'] }] } } })
      .expect(200);
    const granted = await api().post(`/api/v1/requests/${filed.id}/confirm`).set(bearer(c.office)).send({ decision: 'confirm' }).expect(200);
    expect(granted.body.status).toBe('granted');
    await p.approval.relay.drain();
    expect((await streamEvents(p.prefix, 'request')).filter((e) => e.subject === filed.id).map((e) => e.type)).toContain('request.returned');
  });

  it('records a provider refusal with its legal basis; the office’s confirmation closes the request as refused', async () => {
    const filed = await file();
    const basis = '《个人信息保护法》第十三条: 申请用途不属于法定职责';
    await api().post(`/api/v1/requests/${filed.id}/review`).set(bearer(c.ga)).send({ decision: 'refuse', legalBasis: basis }).expect(200);
    const closed = await api().post(`/api/v1/requests/${filed.id}/confirm`).set(bearer(c.office)).send({ decision: 'confirm' }).expect(200);
    expect(closed.body).toMatchObject({ status: 'refused', grantId: null, review: { decision: 'refuse', legalBasis: basis } });
    expect(closed.body.transitions.at(-1)).toMatchObject({ action: 'confirm', to: 'refused', reason: basis });
    await p.approval.relay.drain();
    const refused = (await streamEvents(p.prefix, 'request')).find((e) => e.subject === filed.id && e.type === 'request.refused');
    expect(refused?.data).toMatchObject({ legalBasis: basis, refusedBy: 'provider' });
  });

  it('lets only the provider’s unit admin review and only the office admin confirm', async () => {
    const filed = await file();
    const byApplicant = await api().post(`/api/v1/requests/${filed.id}/review`).set(bearer(c.rs)).send({ decision: 'approve' }).expect(403);
    expect(byApplicant.body.code).toBe('NOT_PROVIDER');
    await api().post(`/api/v1/requests/${filed.id}/review`).set(bearer(c.ga)).send({ decision: 'approve' }).expect(200);
    const byAuditor = await api().post(`/api/v1/requests/${filed.id}/confirm`).set(bearer(c.auditor)).send({ decision: 'confirm' }).expect(403);
    expect(byAuditor.body.code).toBe('ROLE_REQUIRED');
    const byProvider = await api().post(`/api/v1/requests/${filed.id}/confirm`).set(bearer(c.ga)).send({ decision: 'confirm' }).expect(403);
    expect(byProvider.body.code).toBe('ROLE_REQUIRED');
  });

  it('withdraws an open request at the applicant’s wish', async () => {
    const filed = await file();
    const byProvider = await api().post(`/api/v1/requests/${filed.id}/withdraw`).set(bearer(c.ga)).send({}).expect(403);
    expect(byProvider.body.code).toBe('NOT_APPLICANT');
    const done = await api().post(`/api/v1/requests/${filed.id}/withdraw`).set(bearer(c.rsOperator)).send({ reason: '需求已通过其他渠道满足' }).expect(200);
    expect(done.body).toMatchObject({ status: 'withdrawn', providerDeadline: null });
    const review = await api().post(`/api/v1/requests/${filed.id}/review`).set(bearer(c.ga)).send({ decision: 'approve' }).expect(409);
    expect(review.body.code).toBe('ILLEGAL_TRANSITION');
    await p.approval.relay.drain();
    const withdrawn = (await streamEvents(p.prefix, 'request')).find((e) => e.subject === filed.id && e.type === 'request.withdrawn');
    expect(withdrawn).toMatchObject({
      actor: { kind: 'account', unitId: c.rs.unitId, accountId: c.rsOperator.id },
      data: { from: 'provider_review', status: 'withdrawn', reason: '需求已通过其他渠道满足' },
    });
  });

  describe('grants', () => {
    let grantId: string;
    beforeAll(async () => {
      const filed = await file();
      await api().post(`/api/v1/requests/${filed.id}/review`).set(bearer(c.ga)).send({ decision: 'approve' }).expect(200);
      grantId = (await api().post(`/api/v1/requests/${filed.id}/confirm`).set(bearer(c.office)).send({ decision: 'confirm' }).expect(200)).body.grantId;
    });

    it('lists a consumer’s active grants', async () => {
      const mine = await api().get(`/api/v1/grants?consumer=${c.rs.unitId}&active=true`).set(bearer(c.rs)).expect(200);
      expect(mine.body.items.map((g: { id: string }) => g.id)).toContain(grantId);
      expect(mine.body.items.every((g: { consumerUnitId: string; status: string }) => g.consumerUnitId === c.rs.unitId && g.status === 'active')).toBe(true);
      const asProvider = await api().get(`/api/v1/grants?provider=${c.ga.unitId}`).set(bearer(c.ga)).expect(200);
      expect(asProvider.body.items.map((g: { id: string }) => g.id)).toContain(grantId);
    });

    it('suspends, resumes and revokes, bumping the version and emitting the whole grant each time', async () => {
      const consumerTries = await api().post(`/api/v1/grants/${grantId}/suspend`).set(bearer(c.rs)).send({ reason: '自行暂停' }).expect(403);
      expect(consumerTries.body.code).toBe('NOT_ALLOWED');
      const noReason = await api().post(`/api/v1/grants/${grantId}/suspend`).set(bearer(c.ga)).send({}).expect(400);
      expect(noReason.body).toMatchObject({ code: 'REASON_REQUIRED', field: 'body.reason' });
      const suspended = await api().post(`/api/v1/grants/${grantId}/suspend`).set(bearer(c.ga)).send({ reason: '发现超范围使用, 核查中' }).expect(200);
      expect(suspended.body).toMatchObject({ status: 'suspended', version: 2, statusReason: '发现超范围使用, 核查中' });
      const notActive = await api().get(`/api/v1/grants?consumer=${c.rs.unitId}&active=true`).set(bearer(c.rs)).expect(200);
      expect(notActive.body.items.map((g: { id: string }) => g.id)).not.toContain(grantId);
      const again = await api().post(`/api/v1/grants/${grantId}/suspend`).set(bearer(c.ga)).send({ reason: '再次' }).expect(409);
      expect(again.body.code).toBe('ILLEGAL_TRANSITION');
      const resumed = await api().post(`/api/v1/grants/${grantId}/resume`).set(bearer(c.office)).send({}).expect(200);
      expect(resumed.body).toMatchObject({ status: 'active', version: 3 });
      const revoked = await api().post(`/api/v1/grants/${grantId}/revoke`).set(bearer(c.office)).send({ reason: '整改不到位' }).expect(200);
      expect(revoked.body).toMatchObject({ status: 'revoked', version: 4 });
      const resurrect = await api().post(`/api/v1/grants/${grantId}/resume`).set(bearer(c.ga)).send({}).expect(409);
      expect(resurrect.body.code).toBe('ILLEGAL_TRANSITION');

      const detail = (await api().get(`/api/v1/grants/${grantId}`).set(bearer(c.rs)).expect(200)).body;
      expect(detail.transitions.map((t: { action: string; to: string }) => `${t.action}>${t.to}`)).toEqual(['issue>active', 'suspend>suspended', 'resume>active', 'revoke>revoked']);

      await p.approval.relay.drain();
      const events = (await streamEvents(p.prefix, 'grant')).filter((e) => e.subject === grantId);
      expect(events.map((e) => [e.type, e.data.status, e.data.version])).toEqual([
        ['grant.issued', 'active', 1],
        ['grant.suspended', 'suspended', 2],
        ['grant.resumed', 'active', 3],
        ['grant.revoked', 'revoked', 4],
      ]);
      for (const e of events)
        expect(Object.keys(e.data)).toEqual(
          expect.arrayContaining([
            'id',
            'consumerUnitId',
            'providerUnitId',
            'resourceCode',
            'items',
            'rowFilter',
            'modes',
            'rateLimitPerSecond',
            'dailyQuota',
            'validFrom',
            'validTo',
            'status',
            'version',
          ]),
        );
    });

    it('gives the office a snapshot of the active grants and the stream position to follow from', async () => {
      const filed = await file();
      await api().post(`/api/v1/requests/${filed.id}/review`).set(bearer(c.ga)).send({ decision: 'approve' }).expect(200);
      const live = (await api().post(`/api/v1/requests/${filed.id}/confirm`).set(bearer(c.office)).send({ decision: 'confirm' }).expect(200)).body.grantId;
      await p.approval.relay.drain();
      const events = await streamEvents(p.prefix, 'grant');

      const snap = await api().get('/api/v1/grants/snapshot').set(bearer(c.auditor)).expect(200);
      expect(snap.body.position).toBe(events.at(-1)!.entryId);
      expect(snap.body.stream).toBe(streamKey(p.prefix, 'grant'));
      const ids = snap.body.items.map((g: { id: string }) => g.id);
      expect(ids).toContain(live);
      expect(ids).not.toContain(grantId); // revoked above
      expect(snap.body.items.every((g: { status: string }) => g.status === 'active')).toBe(true);

      const denied = await api().get('/api/v1/grants/snapshot').set(bearer(c.ga)).expect(403);
      expect(denied.body.code).toBe('ROLE_REQUIRED');
    });
  });
});
