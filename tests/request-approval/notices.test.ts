import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import type { App } from '@gdx/service-kit';
import { personOf } from '@gdx/data-query/testing';
import { freePort, startPlatform, type TestPlatform } from '../helpers/platform';
import { startGateway } from '../helpers/gateway';
import { bearer, cast, enc, FakeClock, grantThroughRequest, publishReference, streamEvents, type Cast } from './support';

const CODE = '101001/0001';
const OTHER = '102001/0001';
const MINUTE = 60_000;

/**
 * Maintenance notices (Art. 23, issue 14) through the gateway: the 3-working-day rule on
 * request-approval's clock (moved by the test, across a configured holiday), and the
 * gateway's 503 during a window on two gateway replicas sharing the platform's keys,
 * database and Redis prefix, on the real clock.
 */
describe('maintenance notices', () => {
  const clock = new FakeClock(Date.now());
  let p: TestPlatform & { approval: App };
  let second: App;
  let gateways: string[];
  let c: Cast;
  const api = () => request(p.gatewayUrl);
  const person = personOf(3);

  beforeAll(async () => {
    const keysDir = mkdtempSync(join(tmpdir(), 'gdx-keys-'));
    const platform = await startPlatform(['catalogue', 'request-approval', 'data-query'], {
      gateway: { keysDir },
      config: { 'request-approval': { sweepIntervalMs: 0, extraHolidays: '2099-12-10', extraWorkingDays: '2099-12-12' } },
      app: { 'request-approval': { clock } },
    });
    p = Object.assign(platform, { approval: platform.services['request-approval']! });
    const urlOf = (app: App) => `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
    second = await startGateway(p.db.url, p.prefix, {
      keysDir,
      catalogueUrl: urlOf(p.services.catalogue!),
      requestApprovalUrl: urlOf(p.approval),
      dataQueryUrl: urlOf(p.services['data-query']!),
    });
    const port = await freePort();
    await second.listen({ host: '127.0.0.1', port });
    gateways = [p.gatewayUrl, `http://127.0.0.1:${port}`];
    c = await cast(p.gateway);
    await publishReference(p.gatewayUrl, CODE, c.ga, c.office);
    await publishReference(p.gatewayUrl, OTHER, c.scjg, c.office);
    clock.set(new Date());
    await grantThroughRequest(p.gatewayUrl, { applicant: c.rs, provider: c.ga, office: c.office }, CODE, ['idNumber', 'name']);
    const row = { idNumber: person.idNumber, name: '张三', sex: person.sex, birthDate: person.birthDate, regionCode: person.regionCode };
    await api()
      .post(`/api/v1/data/${enc(CODE)}/batches`)
      .set(bearer(c.ga))
      .set('content-type', 'application/x-ndjson')
      .send(JSON.stringify(row))
      .expect(200);
  });
  afterAll(async () => {
    await second?.close();
    await p?.close();
  });

  const notice = (who: Cast['office'], body: Record<string, unknown>) =>
    api()
      .post('/api/v1/notices')
      .set(bearer(who))
      .send({ description: '数据库升级', ...body });

  describe('announcing (on request-approval’s clock)', () => {
    // Mon 7 Dec 2099 (far from the real clock, which the gateway's windows run on), 10:00 in Beijing; Thu 10 is a holiday: 3 working days are Tue 8, Wed 9, Fri 11.
    const MONDAY = '2099-12-07T02:00:00Z';
    const EARLIEST = '2099-12-11T16:00:00.000Z';
    const windowFrom = (start: string, hours = 2) => ({ startsAt: start, endsAt: new Date(Date.parse(start) + hours * 3_600_000).toISOString() });

    it('is refused sooner than 3 working days ahead unless an emergency with its reason', async () => {
      clock.set(MONDAY);
      const early = await notice(c.office, { ...windowFrom('2099-12-11T15:00:00Z'), resourceCodes: [CODE] }).expect(400);
      expect(early.body).toMatchObject({ code: 'NOTICE_TOO_SHORT', field: 'body.startsAt', earliestStart: EARLIEST });
      expect((await notice(c.office, { ...windowFrom('2099-12-08T16:00:00Z'), resourceCodes: [CODE], emergency: true }).expect(400)).body.code).toBe('EMERGENCY_REASON_REQUIRED');
      const urgent = (await notice(c.office, { ...windowFrom('2099-12-08T16:00:00Z'), resourceCodes: [CODE], emergency: true, emergencyReason: '存储故障紧急修复' }).expect(201)).body;
      expect(urgent).toMatchObject({ emergency: true, emergencyReason: '存储故障紧急修复', status: 'announced', version: 1 });
      const planned = (await notice(c.office, { ...windowFrom(EARLIEST), services: ['data-call'] }).expect(201)).body;
      expect(planned).toMatchObject({ emergency: false, emergencyReason: null, services: ['data-call'], resourceCodes: [], issuerUnitId: c.office.unitId });
      expect(planned.number).toMatch(/^WH-2099-\d{4}$/);
      expect((await notice(c.office, { ...windowFrom(EARLIEST) }).expect(400)).body.code).toBe('NOTICE_SCOPE_REQUIRED');
      expect((await notice(c.office, { startsAt: '2099-12-20T02:00:00Z', endsAt: '2099-12-20T01:00:00Z', resourceCodes: [CODE] }).expect(400)).body.code).toBe('INVALID_WINDOW');
      expect((await notice(c.office, { ...windowFrom('2099-12-01T02:00:00Z'), resourceCodes: [CODE], emergency: true, emergencyReason: 'x' }).expect(400)).body.code).toBe('WINDOW_IN_PAST');
      expect((await notice(c.office, { ...windowFrom(EARLIEST), resourceCodes: ['999999/0001'] }).expect(400)).body).toMatchObject({ code: 'UNKNOWN_RESOURCE', field: 'body.resourceCodes[0]' });
    });

    it('a provider announces for its own resources only, never whole service modes; operators and other units may not', async () => {
      clock.set(MONDAY);
      expect((await notice(c.ga, { ...windowFrom(EARLIEST), resourceCodes: [CODE] }).expect(201)).body.issuerUnitId).toBe(c.ga.unitId);
      expect((await notice(c.ga, { ...windowFrom(EARLIEST), resourceCodes: [CODE, OTHER] }).expect(403)).body).toMatchObject({ code: 'NOT_YOUR_RESOURCE', field: 'body.resourceCodes[1]' });
      expect((await notice(c.ga, { ...windowFrom(EARLIEST), services: ['interface'] }).expect(403)).body.code).toBe('SERVICES_OFFICE_ONLY');
      expect((await notice(c.rsOperator, { ...windowFrom(EARLIEST), resourceCodes: [CODE] }).expect(403)).body.code).toBe('ROLE_REQUIRED');
      expect((await notice(c.auditor, { ...windowFrom(EARLIEST), resourceCodes: [CODE] }).expect(403)).body.code).toBe('ROLE_REQUIRED');
    });

    it('is amended and cancelled with its history kept; only its issuer or the office changes it; every unit reads it', async () => {
      clock.set(MONDAY);
      const n = (await notice(c.ga, { ...windowFrom('2099-12-15T02:00:00Z'), resourceCodes: [CODE] }).expect(201)).body;
      const patch = (who: Cast['office'], body: Record<string, unknown>) => api().patch(`/api/v1/notices/${n.id}`).set(bearer(who)).send(body);
      expect((await patch(c.scjg, { description: '改', reason: '更正' }).expect(403)).body.code).toBe('NOT_ISSUER');
      expect((await patch(c.strangers[0], { description: '改', reason: '更正' }).expect(403)).body.code).toBe('NOT_ISSUER');
      // Moving the start earlier is held to the rule again; a longer end is not.
      expect((await patch(c.ga, { startsAt: '2099-12-09T02:00:00Z', reason: '提前' }).expect(400)).body.code).toBe('NOTICE_TOO_SHORT');
      const amended = (await patch(c.ga, { endsAt: '2099-12-15T08:00:00Z', description: '数据库升级（延长）', reason: '工作量增加' }).expect(200)).body;
      expect(amended).toMatchObject({ version: 2, endsAt: '2099-12-15T08:00:00.000Z', description: '数据库升级（延长）' });
      expect(amended.history.map((h: { version: number; action: string }) => `${h.version}:${h.action}`)).toEqual(['1:announce', '2:amend']);
      expect(amended.history[0].notice).toMatchObject({ endsAt: '2099-12-15T04:00:00.000Z', description: '数据库升级' });
      expect(amended.history[1].reason).toBe('工作量增加');
      const cancelled = (await api().post(`/api/v1/notices/${n.id}/cancel`).set(bearer(c.office)).send({ reason: '改期' }).expect(200)).body;
      expect(cancelled).toMatchObject({ status: 'cancelled', cancelReason: '改期', version: 3 });
      expect((await patch(c.ga, { description: '再改', reason: 'x' }).expect(409)).body).toMatchObject({ code: 'ILLEGAL_TRANSITION', currentStatus: 'cancelled' });
      expect((await api().post(`/api/v1/notices/${n.id}/cancel`).set(bearer(c.ga)).send({ reason: 'x' }).expect(409)).body.code).toBe('ILLEGAL_TRANSITION');
      await expect(p.approval.db.query(`UPDATE notice_revision SET reason = 'x' WHERE notice_id = $1`, [n.id])).rejects.toThrow(/append-only/);

      // Announcements are to every unit.
      for (const who of [c.rs, c.rsOperator, ...c.strangers, c.auditor]) {
        expect((await api().get(`/api/v1/notices/${n.id}`).set(bearer(who)).expect(200)).body.history).toHaveLength(3);
        const active = (await api().get('/api/v1/notices?active=true').set(bearer(who)).expect(200)).body.items.map((x: { id: string }) => x.id);
        expect(active).not.toContain(n.id);
        const all = (
          await api()
            .get(`/api/v1/notices?from=${enc('2099-12-15T00:00:00Z')}&to=${enc('2099-12-16T00:00:00Z')}`)
            .set(bearer(who))
            .expect(200)
        ).body.items;
        expect(all.map((x: { id: string }) => x.id)).toContain(n.id);
      }
      await p.approval.relay.drain();
      const events = (await streamEvents(p.prefix, 'notice')).filter((e) => e.subject === n.id);
      expect(events.map((e) => e.type)).toEqual(['notice.published', 'notice.amended', 'notice.cancelled']);
      expect(events.map((e) => e.data.version)).toEqual([1, 2, 3]);
    });
  });

  describe('the gateway during a window (real clock, two replicas)', () => {
    const query = (gw: string, code = CODE) =>
      request(gw)
        .post(`/api/v1/query/${enc(code)}`)
        .set(bearer(c.rs))
        .send({ where: { idNumber: person.idNumber }, items: ['name'] });

    /** How long after `since` every gateway answered as `done` says (Infinity after 5 s). */
    const propagation = (since: number, ask: (gw: string) => Promise<request.Response>, done: (res: request.Response) => boolean) =>
      Promise.all(
        gateways.map(async (gw) => {
          for (;;) {
            if (done(await ask(gw))) return Date.now() - since;
            if (Date.now() - since > 5_000) return Infinity;
            await new Promise((r) => setTimeout(r, 10));
          }
        }),
      );

    it('answers 503 with Retry-After and the notice on every replica within a second, only for what it names, and serves again once cancelled', async () => {
      clock.set(new Date());
      for (const gw of gateways) expect((await query(gw).expect(200)).body).toMatchObject({ items: [{ name: '张*' }] });

      const announcedAt = Date.now();
      const n = (
        await notice(c.office, {
          startsAt: new Date(announcedAt - 1_000).toISOString(),
          endsAt: new Date(announcedAt + 10 * MINUTE).toISOString(),
          resourceCodes: [CODE],
          emergency: true,
          emergencyReason: '主库故障切换',
        }).expect(201)
      ).body;
      const seen = await propagation(
        announcedAt,
        (gw) => query(gw),
        (res) => res.status === 503,
      );
      for (const ms of seen) expect(ms).toBeLessThan(1_000);
      for (const gw of gateways) {
        const res = await query(gw);
        expect(res.status).toBe(503);
        expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
        expect(res.body).toMatchObject({ code: 'MAINTENANCE', notice: { id: n.id, number: n.number, endsAt: n.endsAt, href: `/api/v1/notices/${n.id}` } });
        const retryAfter = Number(res.headers['retry-after']);
        expect(retryAfter).toBeGreaterThan(9 * 60);
        expect(retryAfter).toBeLessThanOrEqual(10 * 60);
        expect(res.headers.link).toBe(`</api/v1/notices/${n.id}>; rel="related"`);
        // Any call on the resource's data, its provider's batches included; other resources are served as ever.
        expect(
          (
            await request(gw)
              .post(`/api/v1/data/${enc(CODE)}/batches`)
              .set(bearer(c.ga))
              .set('content-type', 'application/x-ndjson')
              .send('{}')
              .expect(503)
          ).body.code,
        ).toBe('MAINTENANCE');
        expect((await query(gw, OTHER).expect(403)).body.code).toBe('NO_GRANT');
        // The notice itself stays readable.
        await request(gw).get(`/api/v1/notices/${n.id}`).set(bearer(c.rs)).expect(200);
      }

      const cancelledAt = Date.now();
      await api().post(`/api/v1/notices/${n.id}/cancel`).set(bearer(c.office)).send({ reason: '故障已恢复' }).expect(200);
      const back = await propagation(
        cancelledAt,
        (gw) => query(gw),
        (res) => res.status === 200,
      );
      for (const ms of back) expect(ms).toBeLessThan(1_000);
    });

    it('a service-mode window closes that mode for every resource, and the platform serves again when the window ends', async () => {
      clock.set(new Date());
      const start = Date.now();
      const n = (
        await notice(c.office, {
          startsAt: new Date(start - 1_000).toISOString(),
          endsAt: new Date(start + 3_000).toISOString(),
          services: ['customization', 'data-call'],
          emergency: true,
          emergencyReason: '作业引擎升级',
        }).expect(201)
      ).body;
      const jobs = (gw: string) => request(gw).get('/api/v1/jobs').set(bearer(c.rs));
      const seen = await propagation(start, jobs, (res) => res.status === 503);
      for (const ms of seen) expect(ms).toBeLessThan(1_000);
      for (const gw of gateways) {
        expect((await jobs(gw).expect(503)).body.notice.id).toBe(n.id);
        expect(
          (
            await request(gw)
              .get(`/api/v1/data/${enc(CODE)}/records`)
              .set(bearer(c.rs))
              .expect(503)
          ).body.code,
        ).toBe('MAINTENANCE');
        expect((await request(gw).get('/api/v1/subscriptions').set(bearer(c.rs)).expect(503)).body.code).toBe('MAINTENANCE');
        // Interface queries are another mode: served.
        await query(gw).expect(200);
      }
      // No cancellation: the window's end is enough.
      await new Promise((r) => setTimeout(r, Math.max(0, start + 3_000 - Date.now())));
      for (const gw of gateways) expect((await jobs(gw).expect(200)).body.items).toEqual([]);
    });

    it('refusals during a window are on the record, as the caller’s', async () => {
      clock.set(new Date());
      const start = Date.now();
      await notice(c.office, {
        startsAt: new Date(start - 1_000).toISOString(),
        endsAt: new Date(start + 2_000).toISOString(),
        resourceCodes: [CODE],
        emergency: true,
        emergencyReason: '网络割接',
      }).expect(201);
      const seen = await propagation(
        start,
        (gw) => query(gw),
        (res) => res.status === 503,
      );
      for (const ms of seen) expect(ms).toBeLessThan(1_000);
      const refused = await query(p.gatewayUrl).expect(503);
      const calls = await (async () => {
        for (let i = 0; i < 100; i++) {
          const found = (await streamEvents(p.prefix, 'call')).filter((e) => e.data.requestId === refused.headers['x-request-id']);
          if (found.length) return found;
          await new Promise((r) => setTimeout(r, 50));
        }
        return [];
      })();
      expect(calls).toHaveLength(1);
      expect(calls[0].data).toMatchObject({ status: 503, result: 'denied', code: 'MAINTENANCE', unitId: c.rs.unitId });
      await new Promise((r) => setTimeout(r, Math.max(0, start + 2_000 - Date.now())));
      await query(p.gatewayUrl).expect(200);
    });
  });
});
