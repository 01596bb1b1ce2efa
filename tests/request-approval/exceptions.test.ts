import request from 'supertest';
import { referenceData } from '@gdx/codes';
import type { App } from '@gdx/service-kit';
import type { TestPlatform } from '../helpers/platform';
import { bearer, cast, publishReference, requestBody, startApprovalPlatform, streamEvents, window, type Cast } from './support';

const NOT_SHARED = '307001/0001'; // 违法犯罪记录, GA, none
const SERVES_NEED = '101001/0001'; // 人口基本信息, GA, conditional

describe('resources not shared, and needs outside the catalogue', () => {
  let p: TestPlatform & { approval: App };
  let c: Cast;
  const api = () => request(p.gatewayUrl);

  beforeAll(async () => {
    p = await startApprovalPlatform();
    c = await cast(p.gateway);
    await publishReference(p.gatewayUrl, NOT_SHARED, c.ga, c.office);
    await publishReference(p.gatewayUrl, SERVES_NEED, c.ga, c.office);
  });
  afterAll(() => p?.close());

  describe('none: refused unless the office records a legal basis for an exception', () => {
    it('goes straight to the office, which refuses with its legal basis', async () => {
      const filed = (
        await api()
          .post('/api/v1/requests')
          .set(bearer(c.rs))
          .send(requestBody(NOT_SHARED, ['idNumber', 'recordType']))
          .expect(201)
      ).body;
      expect(filed).toMatchObject({ track: 'none', status: 'office_review', providerDeadline: null });
      const byProvider = await api().post(`/api/v1/requests/${filed.id}/review`).set(bearer(c.ga)).send({ decision: 'approve' }).expect(409);
      expect(byProvider.body.code).toBe('ILLEGAL_TRANSITION');
      const cannotReturn = await api().post(`/api/v1/requests/${filed.id}/confirm`).set(bearer(c.office)).send({ decision: 'return', comment: '请公安局审核' }).expect(409);
      expect(cannotReturn.body.code).toBe('ILLEGAL_TRANSITION');
      const refused = await api().post(`/api/v1/requests/${filed.id}/confirm`).set(bearer(c.office)).send({ decision: 'refuse', legalBasis: '属于不予共享类, 无例外情形' }).expect(200);
      expect(refused.body).toMatchObject({ status: 'refused', grantId: null });
    });

    it('refuses on the catalogue’s own legal basis when the office gives none', async () => {
      const filed = (
        await api()
          .post('/api/v1/requests')
          .set(bearer(c.rs))
          .send(requestBody(NOT_SHARED, ['idNumber']))
          .expect(201)
      ).body;
      const refused = await api().post(`/api/v1/requests/${filed.id}/confirm`).set(bearer(c.office)).send({ decision: 'refuse' }).expect(200);
      const basis = (referenceData().resources.find((r) => r.code === NOT_SHARED) as { sharing: { legalBasis: string } }).sharing.legalBasis;
      expect(refused.body).toMatchObject({ status: 'refused', officeDecision: { decision: 'refuse', legalBasis: basis } });
      expect(refused.body.transitions.at(-1)).toMatchObject({ action: 'refuse', to: 'refused', reason: basis });
      await p.approval.relay.drain();
      expect((await streamEvents(p.prefix, 'request')).find((e) => e.subject === filed.id && e.type === 'request.refused')?.data).toMatchObject({ legalBasis: basis, refusedBy: 'office' });
    });

    it('grants only as an exception with a recorded legal basis', async () => {
      const filed = (
        await api()
          .post('/api/v1/requests')
          .set(bearer(c.rs))
          .send(requestBody(NOT_SHARED, ['idNumber', 'recordType']))
          .expect(201)
      ).body;
      const bare = await api().post(`/api/v1/requests/${filed.id}/confirm`).set(bearer(c.office)).send({ decision: 'confirm' }).expect(400);
      expect(bare.body).toMatchObject({ code: 'LEGAL_BASIS_REQUIRED', field: 'body.legalBasis' });
      const basis = '市政府专题会议纪要〔2026〕12号: 招录政审例外核验';
      const granted = await api()
        .post(`/api/v1/requests/${filed.id}/confirm`)
        .set(bearer(c.office))
        .send({ decision: 'confirm', legalBasis: basis, terms: { items: ['idNumber'], dailyQuota: 50 } })
        .expect(200);
      expect(granted.body).toMatchObject({ status: 'granted', officeDecision: { decision: 'confirm', legalBasis: basis } });
      const grant = (await api().get(`/api/v1/grants/${granted.body.grantId}`).set(bearer(c.rs)).expect(200)).body;
      expect(grant).toMatchObject({ items: ['idNumber'], dailyQuota: 50, resourceCode: NOT_SHARED, status: 'active' });
      expect(grant.transitions[0]).toMatchObject({ action: 'issue', reason: `request ${filed.id}` });
      expect(granted.body.transitions.at(-1)).toMatchObject({ action: 'confirm', to: 'granted', reason: basis });
    });
  });

  describe('out of catalogue: the named provider reviews and names the resource that serves the need', () => {
    const need = {
      need: '需要核验申领人户籍所在区县',
      providerUnitId: '',
      items: ['户籍区县'],
      serviceMode: 'interface',
      purpose: '就业补贴资格审核',
      dutyBasis: '《就业促进法》第十五条',
      expectedVolume: 100,
      ...window(0, 200),
    };

    it('refuses an unknown provider unit and a need without provider', async () => {
      const unknown = await api()
        .post('/api/v1/requests')
        .set(bearer(c.rs))
        .send({ ...need, providerUnitId: '0190d1c4-0000-7000-8000-000000000000' })
        .expect(400);
      expect(unknown.body).toMatchObject({ code: 'UNKNOWN_UNIT', field: 'body.providerUnitId' });
      const { providerUnitId: _x, ...noProvider } = need;
      const missing = await api().post('/api/v1/requests').set(bearer(c.rs)).send(noProvider).expect(400);
      expect(missing.body).toMatchObject({ code: 'PROVIDER_REQUIRED', field: 'body.providerUnitId' });
    });

    it('goes to the named provider, whose approval names the resource and items, then to the office', async () => {
      const filed = (
        await api()
          .post('/api/v1/requests')
          .set(bearer(c.rs))
          .send({ ...need, providerUnitId: c.ga.unitId })
          .expect(201)
      ).body;
      expect(filed).toMatchObject({ track: 'uncatalogued', status: 'provider_review', resourceCode: null, need: need.need, providerUnitId: c.ga.unitId });
      const url = `/api/v1/requests/${filed.id}/review`;
      const noResource = await api()
        .post(url)
        .set(bearer(c.ga))
        .send({ decision: 'approve', terms: { items: ['regionCode'] } })
        .expect(400);
      expect(noResource.body).toMatchObject({ code: 'RESOURCE_REQUIRED', field: 'body.terms.resourceCode' });
      const noItems = await api()
        .post(url)
        .set(bearer(c.ga))
        .send({ decision: 'approve', terms: { resourceCode: SERVES_NEED } })
        .expect(400);
      expect(noItems.body).toMatchObject({ code: 'ITEMS_REQUIRED', field: 'body.terms.items' });
      const badItem = await api()
        .post(url)
        .set(bearer(c.ga))
        .send({ decision: 'approve', terms: { resourceCode: SERVES_NEED, items: ['idNumber', 'bloodType'] } })
        .expect(400);
      expect(badItem.body).toMatchObject({ code: 'UNKNOWN_ITEM', field: 'body.terms.items[1]' });
      await api()
        .post(url)
        .set(bearer(c.ga))
        .send({ decision: 'approve', terms: { resourceCode: SERVES_NEED, items: ['idNumber', 'regionCode'] } })
        .expect(200);
      const granted = await api().post(`/api/v1/requests/${filed.id}/confirm`).set(bearer(c.office)).send({ decision: 'confirm' }).expect(200);
      const grant = (await api().get(`/api/v1/grants/${granted.body.grantId}`).set(bearer(c.rs)).expect(200)).body;
      expect(grant).toMatchObject({ resourceCode: SERVES_NEED, items: ['idNumber', 'regionCode'], providerUnitId: c.ga.unitId, consumerUnitId: c.rs.unitId });
      await p.approval.relay.drain();
      expect((await streamEvents(p.prefix, 'grant')).some((e) => e.type === 'grant.issued' && e.subject === grant.id)).toBe(true);
    });
  });
});
