import request from 'supertest';
import { referenceData } from '@gdx/codes';
import type { App } from '@gdx/service-kit';
import type { TestPlatform } from '../helpers/platform';
import { bearer, cast, publishReference, requestBody, startApprovalPlatform, streamEvents, type Cast } from './support';

const CODE = '102001/0001'; // 法人单位基本信息, SCJG, unconditional: filing issues the grant at once

/**
 * A new grant for the same consumer unit, resource and mode supersedes the older one
 * (issue 10): at most one is live per (unit, resource, mode), and which one is
 * decided the same way whatever the order things happen in.
 */
describe('a newer grant for the same unit, resource and mode supersedes the older one', () => {
  let p: TestPlatform & { approval: App };
  let c: Cast;
  const api = () => request(p.gatewayUrl);
  const commitment = referenceData().commitment;
  const form = { applicantUnit: '蚌埠市人力资源和社会保障局', contactName: '李四', contactPhone: '0552-2345678', securityMeasures: '专人专岗, 操作留痕, 数据不落地' };

  async function file(mode: string): Promise<string> {
    return (
      await api()
        .post('/api/v1/requests')
        .set(bearer(c.rs))
        .send(requestBody(CODE, ['creditCode', 'entityName'], { serviceMode: mode }))
        .expect(201)
    ).body.id as string;
  }
  async function sign(requestId: string): Promise<string> {
    const done = await api()
      .post(`/api/v1/requests/${requestId}/filing`)
      .set(bearer(c.rs))
      .send({ form, commitment: { version: commitment.version, text: commitment.text } })
      .expect(200);
    expect(done.body.status).toBe('granted');
    return done.body.grantId as string;
  }
  const grantFor = async (mode: string) => sign(await file(mode));
  const grant = async (id: string) => (await api().get(`/api/v1/grants/${id}`).set(bearer(c.rs)).expect(200)).body;
  /** The unit's live grants for the resource that carry this mode. */
  async function live(mode: string): Promise<string[]> {
    const res = await api().get('/api/v1/grants').query({ consumer: c.rs.unitId, resourceCode: CODE, status: 'active', limit: 100 }).set(bearer(c.rs)).expect(200);
    return res.body.items.filter((g: { modes: string[] }) => g.modes.includes(mode)).map((g: { id: string }) => g.id);
  }

  beforeAll(async () => {
    p = await startApprovalPlatform();
    c = await cast(p.gateway);
    await publishReference(p.gatewayUrl, CODE, c.scjg, c.office);
  });
  afterAll(() => p?.close());

  let first: string;
  let second: string;

  it('supersedes the older grant: state, supersededBy, transition and a grant.superseded event carrying the whole grant', async () => {
    first = await grantFor('interface');
    second = await grantFor('interface');

    const old = await grant(first);
    expect(old).toMatchObject({ id: first, status: 'superseded', supersededBy: second, version: 2, statusReason: `superseded by grant ${second}` });
    expect(old.transitions.map((t: { action: string; from: string | null; to: string }) => `${t.action}:${t.from}>${t.to}`)).toEqual(['issue:null>active', 'supersede:active>superseded']);
    expect(old.transitions[1]).toMatchObject({ actorUnitId: c.rs.unitId, reason: `superseded by grant ${second}` });
    expect(await grant(second)).toMatchObject({ id: second, status: 'active', supersededBy: null, version: 1 });
    expect(await live('interface')).toEqual([second]);

    const superseded = await api().get('/api/v1/grants').query({ status: 'superseded' }).set(bearer(c.rs)).expect(200);
    expect(superseded.body.items.map((g: { id: string }) => g.id)).toEqual([first]);

    await p.approval.relay.drain();
    const events = (await streamEvents(p.prefix, 'grant')).filter((e) => [first, second].includes(e.subject));
    expect(events.map((e) => `${e.type}:${e.subject === first ? 'first' : 'second'}`)).toEqual(['grant.issued:first', 'grant.issued:second', 'grant.superseded:first']);
    const event = events[2];
    expect(event.data).toMatchObject({
      id: first,
      consumerUnitId: c.rs.unitId,
      providerUnitId: c.scjg.unitId,
      resourceCode: CODE,
      items: ['creditCode', 'entityName'],
      modes: ['interface'],
      status: 'superseded',
      supersededBy: second,
      version: 2,
      reason: `superseded by grant ${second}`,
    });
    expect(events[1].data).toMatchObject({ id: second, status: 'active', supersededBy: null });

    // The gateway's snapshot holds live grants only.
    const snapshot = await api().get('/api/v1/grants/snapshot').set(bearer(c.office)).expect(200);
    const ids = snapshot.body.items.map((g: { id: string }) => g.id);
    expect(ids).toContain(second);
    expect(ids).not.toContain(first);
  });

  it('leaves a grant for another mode alone', async () => {
    const dataCall = await grantFor('data-call');
    expect(await grant(dataCall)).toMatchObject({ status: 'active', modes: ['data-call'], supersededBy: null });
    expect(await grant(second)).toMatchObject({ status: 'active', version: 1, supersededBy: null });
    expect(await live('interface')).toEqual([second]);
    expect(await live('data-call')).toEqual([dataCall]);
  });

  it('treats superseded as final: suspend, resume and revoke are refused with 409', async () => {
    for (const [action, body] of [
      ['suspend', { reason: '核查' }],
      ['resume', {}],
      ['revoke', { reason: '撤销' }],
    ] as const) {
      const res = await api().post(`/api/v1/grants/${first}/${action}`).set(bearer(c.scjg)).send(body).expect(409);
      expect(res.body).toMatchObject({ code: 'ILLEGAL_TRANSITION', currentStatus: 'superseded', action });
    }
    expect(await grant(first)).toMatchObject({ status: 'superseded', version: 2 });
  });

  it('supersedes a suspended grant too', async () => {
    await api().post(`/api/v1/grants/${second}/suspend`).set(bearer(c.scjg)).send({ reason: '核查中' }).expect(200);
    const third = await grantFor('interface');
    expect(await grant(second)).toMatchObject({ status: 'superseded', supersededBy: third, version: 3 });
    expect((await grant(second)).transitions.map((t: { action: string; to: string }) => `${t.action}>${t.to}`)).toEqual(['issue>active', 'suspend>suspended', 'supersede>superseded']);
    expect(await live('interface')).toEqual([third]);
  });

  it('decides the same way when two grants are issued at once: the newer one stays, the other is superseded by it', async () => {
    const [a, b] = [await file('interface'), await file('interface')];
    const before = await live('interface');
    const ids = await Promise.all([sign(a), sign(b)]);
    const newest = ids.reduce((x, y) => (y > x ? y : x));
    const older = ids.find((id) => id !== newest)!;
    expect(await live('interface')).toEqual([newest]);
    expect(await grant(older)).toMatchObject({ status: 'superseded', supersededBy: newest });
    for (const id of before) expect((await grant(id)).status).toBe('superseded');
  });

  it('shows neither grant to a third unit: 404 on read and on every change, nothing in lists', async () => {
    for (const who of c.strangers) {
      for (const id of [first, second]) {
        const res = await api().get(`/api/v1/grants/${id}`).set(bearer(who)).expect(404);
        expect(JSON.stringify(res.body)).not.toContain(CODE);
        await api().post(`/api/v1/grants/${id}/suspend`).set(bearer(who)).send({ reason: '试探' }).expect(404);
      }
      for (const query of [{}, { status: 'superseded' }, { consumer: c.rs.unitId }, { resourceCode: CODE }]) {
        const list = await api().get('/api/v1/grants').query(query).set(bearer(who)).expect(200);
        expect(list.body.items).toEqual([]);
      }
    }
  });
});
