import request from 'supertest';
import { createHash } from 'node:crypto';
import { referenceData } from '@gdx/codes';
import type { TestPlatform } from '../helpers/platform';
import { bearer, cast, publishReference, startApprovalPlatform, requestBody, streamEvents, window, type Cast } from './support';

const CODE = '102001/0001'; // 法人单位基本信息, SCJG, unconditional

describe('unconditional sharing: record form and commitment issue the grant at once', () => {
  let p: TestPlatform;
  let c: Cast;
  const api = () => request(p.gatewayUrl);
  const commitment = referenceData().commitment;
  const form = { applicantUnit: '蚌埠市人力资源和社会保障局', contactName: '李四', contactPhone: '0552-2345678', securityMeasures: '专人专岗, 操作留痕, 数据不落地' };

  beforeAll(async () => {
    p = await startApprovalPlatform();
    c = await cast(p.gateway);
    await publishReference(p.gatewayUrl, CODE, c.scjg, c.office);
  });
  afterAll(() => p?.close());

  it('serves the commitment in force with its hash', async () => {
    const res = await api().get('/api/v1/requests/commitment').set(bearer(c.rs)).expect(200);
    expect(res.body).toEqual({ version: commitment.version, title: commitment.title, text: commitment.text, sha256: createHash('sha256').update(commitment.text, 'utf8').digest('hex') });
  });

  it('files, then issues the grant on filing, recording signer, time, version and hash', async () => {
    const filed = await api()
      .post('/api/v1/requests')
      .set(bearer(c.rsOperator))
      .send(requestBody(CODE, ['creditCode', 'entityName', 'registrationStatus'], { attachments: [{ name: '职责说明.pdf', size: 1024, sha256: 'a'.repeat(64), mediaType: 'application/pdf' }] }))
      .expect(201);
    expect(filed.body).toMatchObject({
      track: 'unconditional',
      status: 'awaiting_filing',
      resourceCode: CODE,
      providerUnitId: c.scjg.unitId,
      applicantUnitId: c.rs.unitId,
      providerDeadline: null,
      grantId: null,
    });
    expect(filed.body.attachments).toHaveLength(1);

    const done = await api()
      .post(`/api/v1/requests/${filed.body.id}/filing`)
      .set(bearer(c.rsOperator))
      .send({ form, commitment: { version: commitment.version, text: commitment.text } })
      .expect(200);
    expect(done.body.status).toBe('granted');
    expect(done.body.grantId).toEqual(expect.any(String));
    expect(done.body.filing.commitment).toMatchObject({ signerAccountId: c.rsOperator.id, version: commitment.version, sha256: createHash('sha256').update(commitment.text, 'utf8').digest('hex') });
    expect(Date.parse(done.body.filing.commitment.acceptedAt)).toBeGreaterThan(Date.now() - 60_000);
    expect(done.body.filing.form).toMatchObject({ ...form, resourceCode: CODE, items: ['creditCode', 'entityName', 'registrationStatus'], serviceMode: 'interface', expectedVolume: 500 });
    expect(Object.keys(done.body.filing.form).sort()).toEqual(
      referenceData()
        .filingForm.fields.map((f) => f.key)
        .sort(),
    );
    expect(done.body.transitions.map((t: { action: string; to: string }) => `${t.action}>${t.to}`)).toEqual(['file>awaiting_filing', 'filing>granted']);

    const grant = await api().get(`/api/v1/grants/${done.body.grantId}`).set(bearer(c.rs)).expect(200);
    expect(grant.body).toMatchObject({
      consumerUnitId: c.rs.unitId,
      providerUnitId: c.scjg.unitId,
      resourceCode: CODE,
      items: ['creditCode', 'entityName', 'registrationStatus'],
      modes: ['interface'],
      status: 'active',
      version: 1,
      requestId: filed.body.id,
      rowFilter: null,
    });

    await p.services['request-approval']!.relay.drain();
    const grantEvents = await streamEvents(p.prefix, 'grant');
    const issued = grantEvents.find((e) => e.type === 'grant.issued' && e.subject === done.body.grantId);
    expect(issued?.data).toMatchObject({
      id: done.body.grantId,
      consumerUnitId: c.rs.unitId,
      providerUnitId: c.scjg.unitId,
      resourceCode: CODE,
      items: ['creditCode', 'entityName', 'registrationStatus'],
      rowFilter: null,
      modes: ['interface'],
      rateLimitPerSecond: expect.any(Number),
      dailyQuota: expect.any(Number),
      validFrom: expect.any(String),
      validTo: expect.any(String),
      status: 'active',
      version: 1,
    });
    const requestEvents = (await streamEvents(p.prefix, 'request')).filter((e) => e.subject === filed.body.id).map((e) => e.type);
    expect(requestEvents).toEqual(['request.filed', 'request.submitted']);
  });

  it('accepts the hash of the text instead of the text', async () => {
    const filed = await api()
      .post('/api/v1/requests')
      .set(bearer(c.rs))
      .send(requestBody(CODE, ['creditCode']))
      .expect(201);
    const sha256 = createHash('sha256').update(commitment.text, 'utf8').digest('hex');
    const done = await api()
      .post(`/api/v1/requests/${filed.body.id}/filing`)
      .set(bearer(c.rs))
      .send({ form, commitment: { version: commitment.version, sha256 } })
      .expect(200);
    expect(done.body.status).toBe('granted');
  });

  it('refuses an edited commitment, an old version, a missing form field or a form that contradicts the request, writing nothing', async () => {
    const filed = await api()
      .post('/api/v1/requests')
      .set(bearer(c.rs))
      .send(requestBody(CODE, ['creditCode']))
      .expect(201);
    const url = `/api/v1/requests/${filed.body.id}/filing`;
    const edited = await api()
      .post(url)
      .set(bearer(c.rs))
      .send({ form, commitment: { version: commitment.version, text: commitment.text.replace('不转给第三方', '') } })
      .expect(400);
    expect(edited.body).toMatchObject({ code: 'COMMITMENT_MISMATCH', field: 'body.commitment.text' });
    const wrongHash = await api()
      .post(url)
      .set(bearer(c.rs))
      .send({ form, commitment: { version: commitment.version, sha256: 'b'.repeat(64) } })
      .expect(400);
    expect(wrongHash.body).toMatchObject({ code: 'COMMITMENT_MISMATCH', field: 'body.commitment.sha256' });
    const old = await api()
      .post(url)
      .set(bearer(c.rs))
      .send({ form, commitment: { version: '2010-1', text: commitment.text } })
      .expect(400);
    expect(old.body).toMatchObject({ code: 'COMMITMENT_OUTDATED', field: 'body.commitment.version' });
    const none = await api()
      .post(url)
      .set(bearer(c.rs))
      .send({ form, commitment: { version: commitment.version } })
      .expect(400);
    expect(none.body.field).toBe('body.commitment.text');
    const { securityMeasures: _s, ...partial } = form;
    const missing = await api()
      .post(url)
      .set(bearer(c.rs))
      .send({ form: partial, commitment: { version: commitment.version, text: commitment.text } })
      .expect(400);
    expect(missing.body.field).toBe('body.form.securityMeasures');
    const contradicts = await api()
      .post(url)
      .set(bearer(c.rs))
      .send({ form: { ...form, resourceCode: '101001/0001' }, commitment: { version: commitment.version, text: commitment.text } })
      .expect(400);
    expect(contradicts.body).toMatchObject({ code: 'FILING_MISMATCH', field: 'body.form.resourceCode' });
    // 使用单位 is the caller's own unit, not free text: another unit's name (or any name) is refused.
    for (const applicantUnit of ['蚌埠市公安局', '任意单位']) {
      const otherUnit = await api()
        .post(url)
        .set(bearer(c.rs))
        .send({ form: { ...form, applicantUnit }, commitment: { version: commitment.version, text: commitment.text } })
        .expect(400);
      expect(otherUnit.body).toMatchObject({ code: 'FILING_MISMATCH', field: 'body.form.applicantUnit' });
    }

    const after = await api().get(`/api/v1/requests/${filed.body.id}`).set(bearer(c.rs)).expect(200);
    expect(after.body).toMatchObject({ status: 'awaiting_filing', grantId: null, filing: null, version: 1 });
    expect(after.body.transitions).toHaveLength(1);
  });

  it('lets only the applicant file the form, and only once', async () => {
    const filed = await api()
      .post('/api/v1/requests')
      .set(bearer(c.rs))
      .send(requestBody(CODE, ['creditCode']))
      .expect(201);
    const url = `/api/v1/requests/${filed.body.id}/filing`;
    const body = { form, commitment: { version: commitment.version, text: commitment.text } };
    const byProvider = await api().post(url).set(bearer(c.scjg)).send(body).expect(403);
    expect(byProvider.body.code).toBe('NOT_APPLICANT');
    await api().post(url).set(bearer(c.rs)).send(body).expect(200);
    const again = await api().post(url).set(bearer(c.rs)).send(body).expect(409);
    expect(again.body.code).toBe('ILLEGAL_TRANSITION');
  });

  it('fills 使用单位 from the caller’s unit when the form leaves it out', async () => {
    const filed = await api()
      .post('/api/v1/requests')
      .set(bearer(c.rs))
      .send(requestBody(CODE, ['creditCode']))
      .expect(201);
    const { applicantUnit: _a, ...withoutUnit } = form;
    const done = await api()
      .post(`/api/v1/requests/${filed.body.id}/filing`)
      .set(bearer(c.rs))
      .send({ form: withoutUnit, commitment: { version: commitment.version, text: commitment.text } })
      .expect(200);
    expect(done.body.filing.form.applicantUnit).toBe(referenceData().units.find((u) => u.key === 'RS')!.name);
  });

  it('refuses bad requests with the field named and nothing written', async () => {
    const before = (await api().get('/api/v1/requests').set(bearer(c.rs)).expect(200)).body.items.length;
    const cases: [Record<string, unknown>, number, string, string][] = [
      [requestBody(CODE, ['creditCode', 'shoeSize']), 400, 'UNKNOWN_ITEM', 'body.items[1]'],
      [requestBody(CODE, ['creditCode'], window(-30, -1)), 400, 'VALIDITY_IN_PAST', 'body.validTo'],
      [requestBody(CODE, ['creditCode'], { validFrom: window(0, 30).validTo, validTo: window(0, 10).validTo }), 400, 'INVALID_VALIDITY', 'body.validTo'],
      [requestBody('999999/9999', ['creditCode']), 400, 'UNKNOWN_RESOURCE', 'body.resourceCode'],
      [requestBody(CODE, ['creditCode'], { serviceMode: 'teleport' }), 400, 'VALIDATION_FAILED', 'body.serviceMode'],
      [requestBody(CODE, ['creditCode'], { need: '也要别的' }), 400, 'RESOURCE_OR_NEED', 'body.need'],
      [requestBody(CODE, ['creditCode'], { attachments: [{ name: 'x.pdf', size: 1, sha256: 'not-a-hash', mediaType: 'application/pdf' }] }), 400, 'VALIDATION_FAILED', 'body.attachments.0.sha256'],
    ];
    for (const [body, status, code, field] of cases) {
      const res = await api().post('/api/v1/requests').set(bearer(c.rs)).send(body);
      expect({ status: res.status, code: res.body.code, field: res.body.field }).toEqual({ status, code, field });
      expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    }
    const own = await api()
      .post('/api/v1/requests')
      .set(bearer(c.scjg))
      .send(requestBody(CODE, ['creditCode']))
      .expect(400);
    expect(own.body).toMatchObject({ code: 'OWN_RESOURCE', field: 'body.resourceCode' });
    expect((await api().get('/api/v1/requests').set(bearer(c.rs)).expect(200)).body.items.length).toBe(before);
  });
});
