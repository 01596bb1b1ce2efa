import request from 'supertest';
import type { App } from '@gdx/service-kit';
import type { TestPlatform } from '../helpers/platform';
import { addClient, bearer, cast, publishReference, requestBody, startApprovalPlatform, type Cast } from './support';

const CODE = '101001/0001';

/**
 * A unit sees what it filed and what is addressed to it, the office sees all, and
 * every role of every other unit learns nothing: 404 on every route, never 403, and
 * nothing in lists, whatever filters it tries.
 */
describe('visibility of requests and grants across units', () => {
  let p: TestPlatform & { approval: App };
  let c: Cast;
  let open: { id: string };
  let granted: { id: string; grantId: string };
  const api = () => request(p.gatewayUrl);

  beforeAll(async () => {
    p = await startApprovalPlatform();
    c = await cast(p.gateway);
    await publishReference(p.gatewayUrl, CODE, c.ga, c.office);
    open = (
      await api()
        .post('/api/v1/requests')
        .set(bearer(c.rs))
        .send(requestBody(CODE, ['idNumber']))
        .expect(201)
    ).body;
    const g = (
      await api()
        .post('/api/v1/requests')
        .set(bearer(c.rs))
        .send(requestBody(CODE, ['idNumber']))
        .expect(201)
    ).body;
    await api().post(`/api/v1/requests/${g.id}/review`).set(bearer(c.ga)).send({ decision: 'approve' }).expect(200);
    granted = (await api().post(`/api/v1/requests/${g.id}/confirm`).set(bearer(c.office)).send({ decision: 'confirm' }).expect(200)).body;
  });
  afterAll(() => p?.close());

  it('shows the requests to the applicant’s and the provider’s people and to the office', async () => {
    for (const who of [c.rs, c.rsOperator, c.ga, c.office, c.auditor]) {
      await api().get(`/api/v1/requests/${open.id}`).set(bearer(who)).expect(200);
      await api().get(`/api/v1/grants/${granted.grantId}`).set(bearer(who)).expect(200);
      const list = await api().get('/api/v1/requests').set(bearer(who)).expect(200);
      expect(list.body.items.map((r: { id: string }) => r.id)).toEqual(expect.arrayContaining([open.id, granted.id]));
    }
  });

  it('denies every role of every other unit on every route, with a 404 that gives nothing away', async () => {
    const routes: [string, string, Record<string, unknown>?][] = [
      ['get', `/api/v1/requests/${open.id}`],
      ['post', `/api/v1/requests/${open.id}/review`, { decision: 'approve' }],
      ['post', `/api/v1/requests/${open.id}/confirm`, { decision: 'confirm' }],
      ['post', `/api/v1/requests/${open.id}/withdraw`, {}],
      [
        'post',
        `/api/v1/requests/${open.id}/filing`,
        { form: { applicantUnit: 'x', contactName: 'x', contactPhone: '1', securityMeasures: 'x' }, commitment: { version: '2017-1', sha256: 'a'.repeat(64) } },
      ],
      ['get', `/api/v1/grants/${granted.grantId}`],
      ['post', `/api/v1/grants/${granted.grantId}/suspend`, { reason: 'x' }],
      ['post', `/api/v1/grants/${granted.grantId}/resume`, {}],
      ['post', `/api/v1/grants/${granted.grantId}/revoke`, { reason: 'x' }],
    ];
    const missing = (await api().get('/api/v1/requests/0190d1c4-0000-7000-8000-000000000000').set(bearer(c.strangers[0])).expect(404)).body;
    // Every role of every uninvolved unit: admins and operators of a consumer and of two providers, and a business system.
    const strangers = [...c.strangers, c.scjg, await addClient(p.gatewayUrl, c.strangers[0])];
    for (const stranger of strangers) {
      for (const [method, url, body] of routes) {
        const call =
          method === 'get'
            ? api().get(url)
            : api()
                .post(url)
                .send(body ?? {});
        const res = await call.set(bearer(stranger));
        expect({ url, status: res.status }).toEqual({ url, status: 404 });
        expect(res.body.code).toBe(missing.code);
        expect(res.body.detail).toMatch(/does not exist/);
      }
      const requests = await api().get(`/api/v1/requests?applicant=${c.rs.unitId}`).set(bearer(stranger)).expect(200);
      expect(requests.body.items).toEqual([]);
      const grants = await api().get(`/api/v1/grants?consumer=${c.rs.unitId}`).set(bearer(stranger)).expect(200);
      expect(grants.body.items).toEqual([]);
      const snap = await api().get('/api/v1/grants/snapshot').set(bearer(stranger)).expect(403);
      expect(snap.body.code).toBe('ROLE_REQUIRED');
    }
    expect(strangers).toHaveLength(6);
    // And nothing changed under those attempts.
    expect((await api().get(`/api/v1/requests/${open.id}`).set(bearer(c.rs)).expect(200)).body).toMatchObject({ status: 'provider_review', version: 1 });
    expect((await api().get(`/api/v1/grants/${granted.grantId}`).set(bearer(c.rs)).expect(200)).body).toMatchObject({ status: 'active', version: 1 });
  });

  it('shows a business system of the consumer its unit’s grants, and lets it change nothing', async () => {
    const system = await addClient(p.gatewayUrl, c.rs);
    const grants = (await api().get(`/api/v1/grants?consumer=${c.rs.unitId}&active=true`).set(bearer(system)).expect(200)).body.items;
    expect(grants.map((g: { id: string }) => g.id)).toContain(granted.grantId);
    const suspend = await api().post(`/api/v1/grants/${granted.grantId}/suspend`).set(bearer(system)).send({ reason: 'x' }).expect(403);
    expect(suspend.body.code).toBe('NOT_ALLOWED');
    const file = await api()
      .post('/api/v1/requests')
      .set(bearer(system))
      .send(requestBody(CODE, ['idNumber']))
      .expect(403);
    expect(file.body.code).toBe('ROLE_REQUIRED');
  });

  it('keeps each unit’s lists to its own requests', async () => {
    const other = (
      await api()
        .post('/api/v1/requests')
        .set(bearer(c.strangers[0]))
        .send(requestBody(CODE, ['idNumber']))
        .expect(201)
    ).body;
    const rsList = (await api().get('/api/v1/requests?role=applicant').set(bearer(c.rs)).expect(200)).body.items.map((r: { id: string }) => r.id);
    expect(rsList).not.toContain(other.id);
    const gaList = (await api().get('/api/v1/requests?role=provider').set(bearer(c.ga)).expect(200)).body.items.map((r: { id: string }) => r.id);
    expect(gaList).toEqual(expect.arrayContaining([other.id, open.id]));
    const officeList = (await api().get('/api/v1/requests').set(bearer(c.auditor)).expect(200)).body.items.map((r: { id: string }) => r.id);
    expect(officeList).toEqual(expect.arrayContaining([other.id, open.id, granted.id]));
  });

  it('pages through a list with a cursor', async () => {
    const first = (await api().get('/api/v1/requests?limit=2').set(bearer(c.office)).expect(200)).body;
    expect(first.items).toHaveLength(2);
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = (await api().get(`/api/v1/requests?limit=2&cursor=${first.nextCursor}`).set(bearer(c.office)).expect(200)).body;
    expect(second.items.map((r: { id: string }) => r.id)).not.toEqual(expect.arrayContaining(first.items.map((r: { id: string }) => r.id)));
    const bad = await api().get('/api/v1/requests?cursor=nonsense').set(bearer(c.office)).expect(400);
    expect(bad.body.field).toBe('querystring.cursor');
  });

  it('asks for a token', async () => {
    await api().get('/api/v1/requests').expect(401);
  });
});
