import request from 'supertest';
import type { App } from '@gdx/service-kit';
import type { TestPlatform } from '../helpers/platform';
import { bearer, cast, FakeClock, publishReference, requestBody, startApprovalPlatform, streamEvents, type Cast } from './support';

const CODE = '101001/0001';
const DAY = 86_400_000;

/**
 * Time-driven rules on a clock the test moves: provider deadlines in working days
 * (with a configured holiday and make-up working day) and grant expiry. The sweep
 * is called directly, as the timer would.
 */
describe('deadlines and expiry on a controllable clock', () => {
  // Monday 7 December 2026, 10:00 in Beijing.
  const clock = new FakeClock(Date.parse('2026-12-07T02:00:00Z'));
  let p: TestPlatform & { approval: App };
  let c: Cast;
  const api = () => request(p.gatewayUrl);
  const span = (fromDays: number, toDays: number) => ({
    validFrom: new Date(clock.now().getTime() + fromDays * DAY).toISOString(),
    validTo: new Date(clock.now().getTime() + toDays * DAY).toISOString(),
  });

  beforeAll(async () => {
    p = await startApprovalPlatform({ clock, service: { extraHolidays: '2026-12-10', extraWorkingDays: '2026-12-12', providerDeadlineWorkingDays: 10 } });
    c = await cast(p.gateway);
    // All three modes, so the expiry test can hold three grants of one unit that do not supersede each other.
    await publishReference(p.gatewayUrl, CODE, c.ga, c.office, (body) => (body.methods = ['interface', 'data-call', 'customization']));
  });
  afterAll(() => p?.close());

  it('flags a review as delayed provision once ten working days have passed, once, and lists and emits it', async () => {
    clock.set('2026-12-07T02:00:00Z');
    const filed = (
      await api()
        .post('/api/v1/requests')
        .set(bearer(c.rs))
        .send(requestBody(CODE, ['idNumber'], span(0, 90)))
        .expect(201)
    ).body;
    // Tue 8, Wed 9, (Thu 10 holiday), Fri 11, Sat 12 (make-up day), Mon 14 … Mon 21 is the tenth: due by midnight Beijing time.
    expect(filed.providerDeadline).toBe('2026-12-21T16:00:00.000Z');

    clock.set('2026-12-21T15:59:59Z');
    expect(await p.approval.approval.sweep()).toEqual({ delayed: 0, expired: 0, overdueCases: 0, circulated: 0 });
    expect((await api().get('/api/v1/requests?delayed=true').set(bearer(c.office)).expect(200)).body.items).toEqual([]);

    clock.set('2026-12-21T16:00:00Z');
    expect(await p.approval.approval.sweep()).toEqual({ delayed: 1, expired: 0, overdueCases: 0, circulated: 0 });
    expect(await p.approval.approval.sweep()).toEqual({ delayed: 0, expired: 0, overdueCases: 0, circulated: 0 });

    for (const who of [c.office, c.ga, c.rs]) {
      const delayed = (await api().get('/api/v1/requests?delayed=true').set(bearer(who)).expect(200)).body.items;
      expect(delayed.map((r: { id: string }) => r.id)).toEqual([filed.id]);
      expect(delayed[0]).toMatchObject({ delayed: true, delayedAt: '2026-12-21T16:00:00.000Z', status: 'provider_review' });
    }
    for (const stranger of c.strangers) expect((await api().get('/api/v1/requests?delayed=true').set(bearer(stranger)).expect(200)).body.items).toEqual([]);
    expect((await api().get('/api/v1/requests?delayed=false').set(bearer(c.office)).expect(200)).body.items.map((r: { id: string }) => r.id)).not.toContain(filed.id);

    await p.approval.relay.drain();
    const events = (await streamEvents(p.prefix, 'request')).filter((e) => e.type === 'request.delayed');
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      subject: filed.id,
      actor: { kind: 'system' },
      data: { providerUnitId: c.ga.unitId, applicantUnitId: c.rs.unitId, deadline: '2026-12-21T16:00:00.000Z', delayed: true },
    });

    // A late answer is still an answer, and the flag stays: it counts in assessment.
    const answered = (await api().post(`/api/v1/requests/${filed.id}/review`).set(bearer(c.ga)).send({ decision: 'approve' }).expect(200)).body;
    expect(answered).toMatchObject({ status: 'office_review', delayed: true });
    expect(answered.transitions.map((t: { action: string; actorKind: string }) => `${t.action}:${t.actorKind}`)).toEqual(['file:account', 'delay:system', 'review:approve:account']);
  });

  it('does not flag a review answered in time', async () => {
    clock.set('2026-12-07T02:00:00Z');
    const filed = (
      await api()
        .post('/api/v1/requests')
        .set(bearer(c.rs))
        .send(requestBody(CODE, ['idNumber'], span(0, 90)))
        .expect(201)
    ).body;
    clock.set('2026-12-18T02:00:00Z');
    await api().post(`/api/v1/requests/${filed.id}/review`).set(bearer(c.ga)).send({ decision: 'approve' }).expect(200);
    clock.set('2027-01-10T02:00:00Z');
    await p.approval.approval.sweep();
    expect((await api().get(`/api/v1/requests/${filed.id}`).set(bearer(c.rs)).expect(200)).body).toMatchObject({ delayed: false });
  });

  it('judges validity windows by the service clock', async () => {
    clock.set('2027-03-01T02:00:00Z');
    const past = await api()
      .post('/api/v1/requests')
      .set(bearer(c.rs))
      .send(requestBody(CODE, ['idNumber'], span(-60, -1)))
      .expect(400);
    expect(past.body).toMatchObject({ code: 'VALIDITY_IN_PAST', field: 'body.validTo' });
  });

  it('expires active and suspended grants when their period ends, and emits the whole grant', async () => {
    clock.set('2027-04-05T02:00:00Z');
    const grantFor = async (days: number, serviceMode: string) => {
      const filed = (
        await api()
          .post('/api/v1/requests')
          .set(bearer(c.rs))
          .send(requestBody(CODE, ['idNumber'], { ...span(0, days), serviceMode }))
          .expect(201)
      ).body;
      await api().post(`/api/v1/requests/${filed.id}/review`).set(bearer(c.ga)).send({ decision: 'approve' }).expect(200);
      return (await api().post(`/api/v1/requests/${filed.id}/confirm`).set(bearer(c.office)).send({ decision: 'confirm' }).expect(200)).body.grantId as string;
    };
    const shortLived = await grantFor(30, 'interface');
    const suspended = await grantFor(30, 'data-call');
    const longLived = await grantFor(300, 'customization');
    await api().post(`/api/v1/grants/${suspended}/suspend`).set(bearer(c.ga)).send({ reason: '核查' }).expect(200);
    const validTo = (await api().get(`/api/v1/grants/${shortLived}`).set(bearer(c.rs)).expect(200)).body.validTo;

    clock.set(new Date(Date.parse(validTo) - 1000));
    expect((await p.approval.approval.sweep()).expired).toBe(0);
    expect((await api().get(`/api/v1/grants?consumer=${c.rs.unitId}&active=true`).set(bearer(c.rs)).expect(200)).body.items.map((g: { id: string }) => g.id)).toContain(shortLived);

    clock.set(validTo);
    expect((await p.approval.approval.sweep()).expired).toBe(2);
    const expired = (await api().get(`/api/v1/grants/${shortLived}`).set(bearer(c.rs)).expect(200)).body;
    expect(expired).toMatchObject({ status: 'expired', version: 2 });
    expect(expired.transitions.at(-1)).toMatchObject({ action: 'expire', actorKind: 'system', to: 'expired' });
    expect((await api().get(`/api/v1/grants/${suspended}`).set(bearer(c.rs)).expect(200)).body.status).toBe('expired');
    expect((await api().get(`/api/v1/grants/${longLived}`).set(bearer(c.rs)).expect(200)).body.status).toBe('active');
    const active = (await api().get(`/api/v1/grants?consumer=${c.rs.unitId}&active=true`).set(bearer(c.rs)).expect(200)).body.items.map((g: { id: string }) => g.id);
    expect(active).toEqual([longLived]);
    const resume = await api().post(`/api/v1/grants/${suspended}/resume`).set(bearer(c.ga)).send({}).expect(409);
    expect(resume.body.code).toBe('ILLEGAL_TRANSITION');

    await p.approval.relay.drain();
    const events = (await streamEvents(p.prefix, 'grant')).filter((e) => e.type === 'grant.expired');
    expect(events.map((e) => e.subject).sort()).toEqual([shortLived, suspended].sort());
    expect(events[0].data).toMatchObject({ status: 'expired', consumerUnitId: c.rs.unitId, resourceCode: CODE });
    const snap = (await api().get('/api/v1/grants/snapshot').set(bearer(c.office)).expect(200)).body;
    expect(snap.items.map((g: { id: string }) => g.id)).toEqual([longLived]);
  });
});
