import request from 'supertest';
import type { App } from '@gdx/service-kit';
import type { TestPlatform } from '../helpers/platform';
import { bearer, cast, publishReference, requestBody, startApprovalPlatform, streamEvents, type Cast } from './support';

const CONDITIONAL = '101001/0001'; // 人口基本信息, GA: idNumber and name personal; householdAddress made secret here
const UNCONDITIONAL = '102001/0001'; // 法人单位基本信息, SCJG: legalRepresentative made secret here

/** §6 on the grant side: items asked in clear, narrowed by the provider, secret ones only with the office's recorded legal basis. */
describe('items in clear (issue 11, item 14)', () => {
  let p: TestPlatform & { approval: App };
  let c: Cast;
  const api = () => request(p.gatewayUrl);
  const makeSecret = (key: string) => (body: Record<string, unknown>) => {
    for (const item of body.items as Record<string, unknown>[]) if (item.key === key) item.sensitivity = 'secret';
  };
  const file = async (items: string[], clearItems: string[]) =>
    (
      await api()
        .post('/api/v1/requests')
        .set(bearer(c.rs))
        .send(requestBody(CONDITIONAL, items, { clearItems }))
        .expect(201)
    ).body as { id: string; clearItems: string[] };
  const review = (id: string, terms: Record<string, unknown> = {}) => api().post(`/api/v1/requests/${id}/review`).set(bearer(c.ga)).send({ decision: 'approve', terms });
  const confirm = (id: string, extra: Record<string, unknown> = {}) =>
    api()
      .post(`/api/v1/requests/${id}/confirm`)
      .set(bearer(c.office))
      .send({ decision: 'confirm', ...extra });

  beforeAll(async () => {
    p = await startApprovalPlatform();
    c = await cast(p.gateway);
    await publishReference(p.gatewayUrl, CONDITIONAL, c.ga, c.office, makeSecret('householdAddress'));
    await publishReference(p.gatewayUrl, UNCONDITIONAL, c.scjg, c.office, makeSecret('legalRepresentative'));
  });
  afterAll(() => p?.close());

  it('grants a personal item in clear when it was asked for and approved, and says so on the grant and its event', async () => {
    const filed = await file(['idNumber', 'name', 'sex'], ['name']);
    expect(filed.clearItems).toEqual(['name']);
    await review(filed.id).expect(200);
    const confirmed = await confirm(filed.id).expect(200);
    const grant = (await api().get(`/api/v1/grants/${confirmed.body.grantId}`).set(bearer(c.rs)).expect(200)).body;
    expect(grant).toMatchObject({ items: ['idNumber', 'name', 'sex'], clearItems: ['name'], clearLegalBasis: null });
    await p.approval.relay.drain();
    const issued = (await streamEvents(p.prefix, 'grant')).find((e) => e.subject === grant.id);
    expect(issued).toMatchObject({ type: 'grant.issued', data: { clearItems: ['name'], clearLegalBasis: null } });
  });

  it('lets the provider narrow the items in clear, never widen them, and nothing is in clear unless asked', async () => {
    const filed = await file(['idNumber', 'name', 'sex'], ['idNumber', 'name']);
    const widened = await review(filed.id, { clearItems: ['name', 'sex'] }).expect(400);
    expect(widened.body).toMatchObject({ code: 'CLEAR_ITEMS_NOT_NARROWER', field: 'body.terms.clearItems[1]' });
    const reviewed = await review(filed.id, { clearItems: ['name'] }).expect(200);
    expect(reviewed.body.review.terms.clearItems).toEqual(['name']);
    const confirmed = await confirm(filed.id).expect(200);
    const grant = (await api().get(`/api/v1/grants/${confirmed.body.grantId}`).set(bearer(c.ga)).expect(200)).body;
    expect(grant).toMatchObject({ clearItems: ['name'], clearLegalBasis: null });

    // Dropping an item drops it from the items in clear; asking nothing in clear grants nothing in clear.
    const second = await file(['idNumber', 'name'], ['idNumber', 'name']);
    await review(second.id, { items: ['idNumber'] }).expect(200);
    const g2 = (
      await api()
        .get(`/api/v1/grants/${(await confirm(second.id).expect(200)).body.grantId}`)
        .set(bearer(c.rs))
        .expect(200)
    ).body;
    expect(g2).toMatchObject({ items: ['idNumber'], clearItems: ['idNumber'] });
    const third = await file(['idNumber', 'name'], []);
    await review(third.id).expect(200);
    const g3 = (
      await api()
        .get(`/api/v1/grants/${(await confirm(third.id).expect(200)).body.grantId}`)
        .set(bearer(c.rs))
        .expect(200)
    ).body;
    expect(g3).toMatchObject({ clearItems: [], clearLegalBasis: null });
  });

  it('refuses items in clear that were not asked for', async () => {
    const res = await api()
      .post('/api/v1/requests')
      .set(bearer(c.rs))
      .send(requestBody(CONDITIONAL, ['idNumber'], { clearItems: ['name'] }))
      .expect(400);
    expect(res.body).toMatchObject({ code: 'CLEAR_ITEM_NOT_REQUESTED', field: 'body.clearItems[0]' });
  });

  it('refuses a secret item in clear without the office’s legal basis, and grants it with one, recorded on the grant', async () => {
    const filed = await file(['idNumber', 'householdAddress'], ['idNumber', 'householdAddress']);
    await review(filed.id).expect(200);
    const refused = await confirm(filed.id).expect(400);
    expect(refused.body).toMatchObject({ code: 'LEGAL_BASIS_REQUIRED', field: 'body.clearLegalBasis' });
    expect(refused.body.detail).toContain('householdAddress');
    const still = await api().get(`/api/v1/requests/${filed.id}`).set(bearer(c.rs)).expect(200);
    expect(still.body).toMatchObject({ status: 'office_review', grantId: null });

    // Nobody but the office records it: a third unit does not even learn the request exists.
    for (const s of c.strangers) await confirm(filed.id).set(bearer(s)).send({ decision: 'confirm', clearLegalBasis: '无' }).expect(404);

    const basis = '《反洗钱法》第二十九条: 协查需要完整住址';
    const granted = await confirm(filed.id, { clearLegalBasis: basis }).expect(200);
    expect(granted.body).toMatchObject({ status: 'granted', officeDecision: { decision: 'confirm', clearLegalBasis: basis } });
    const grant = (await api().get(`/api/v1/grants/${granted.body.grantId}`).set(bearer(c.rs)).expect(200)).body;
    expect(grant).toMatchObject({ clearItems: ['idNumber', 'householdAddress'], clearLegalBasis: basis });
    await p.approval.relay.drain();
    const issued = (await streamEvents(p.prefix, 'grant')).find((e) => e.subject === grant.id);
    expect(issued).toMatchObject({ type: 'grant.issued', data: { clearItems: ['idNumber', 'householdAddress'], clearLegalBasis: basis } });

    // A third unit cannot see the grant, alone or in a list.
    for (const s of c.strangers) {
      const one = await api().get(`/api/v1/grants/${grant.id}`).set(bearer(s)).expect(404);
      expect(one.body).not.toHaveProperty('clearLegalBasis');
      const list = await api().get('/api/v1/grants').set(bearer(s)).expect(200);
      expect(list.body.items.map((g: { id: string }) => g.id)).not.toContain(grant.id);
    }
  });

  it('records no legal basis when no secret item is in clear, and none outside a confirmation', async () => {
    const filed = await file(['idNumber', 'householdAddress'], ['idNumber', 'householdAddress']);
    await review(filed.id, { clearItems: ['idNumber'] }).expect(200);
    const onReturn = await api().post(`/api/v1/requests/${filed.id}/confirm`).set(bearer(c.office)).send({ decision: 'return', comment: '请复核', clearLegalBasis: '无' }).expect(400);
    expect(onReturn.body).toMatchObject({ code: 'TERMS_NOT_ALLOWED', field: 'body.clearLegalBasis' });
    const confirmed = await confirm(filed.id).expect(200);
    const grant = (await api().get(`/api/v1/grants/${confirmed.body.grantId}`).set(bearer(c.rs)).expect(200)).body;
    expect(grant).toMatchObject({ items: ['idNumber', 'householdAddress'], clearItems: ['idNumber'], clearLegalBasis: null });
  });

  it('never puts a secret item in clear on an unconditional filing', async () => {
    const res = await api()
      .post('/api/v1/requests')
      .set(bearer(c.rs))
      .send(requestBody(UNCONDITIONAL, ['creditCode', 'legalRepresentative'], { clearItems: ['creditCode', 'legalRepresentative'] }))
      .expect(400);
    expect(res.body).toMatchObject({ code: 'SECRET_ITEM_NOT_CLEAR', field: 'body.clearItems[1]' });
  });
});
