import { streamKey } from '@gdx/events';
import request from 'supertest';
import { Redis } from 'ioredis';
import { referenceData } from '@gdx/codes';
import type { App } from '@gdx/service-kit';
import type { TestPlatform } from '../helpers/platform';
import { REDIS_URL } from '../helpers/redis';
import { bearer, cast, enc, eventually, publishReference, requestBody, startApprovalPlatform, streamEvents, type Cast } from './support';

const DEPRECATED = '102001/0001'; // SCJG, unconditional
const KEPT = '105001/0001'; // SCJG, unconditional

describe('a deprecated resource stops its grants', () => {
  let p: TestPlatform & { approval: App };
  let c: Cast;
  const api = () => request(p.gatewayUrl);
  const commitment = referenceData().commitment;

  // Each grant of a resource in its own mode: a second one in the same mode would supersede the first.
  const grantOn = async (code: string, items: string[], serviceMode = 'interface') => {
    const filed = (
      await api()
        .post('/api/v1/requests')
        .set(bearer(c.rs))
        .send(requestBody(code, items, { serviceMode }))
        .expect(201)
    ).body;
    const form = { applicantUnit: '蚌埠市人力资源和社会保障局', contactName: '李四', contactPhone: '0552-2345678', securityMeasures: '专人专岗' };
    return (
      await api()
        .post(`/api/v1/requests/${filed.id}/filing`)
        .set(bearer(c.rs))
        .send({ form, commitment: { version: commitment.version, text: commitment.text } })
        .expect(200)
    ).body.grantId as string;
  };

  beforeAll(async () => {
    p = await startApprovalPlatform();
    c = await cast(p.gateway);
    await publishReference(p.gatewayUrl, DEPRECATED, c.scjg, c.office);
    await publishReference(p.gatewayUrl, KEPT, c.scjg, c.office);
  });
  afterAll(() => p?.close());

  it('revokes active and suspended grants of the resource once, however often the event arrives', async () => {
    const active = await grantOn(DEPRECATED, ['creditCode', 'entityName']);
    const suspended = await grantOn(DEPRECATED, ['creditCode'], 'data-call');
    const other = await grantOn(KEPT, ['licenceNo']);
    await api().post(`/api/v1/grants/${suspended}/suspend`).set(bearer(c.scjg)).send({ reason: '核查' }).expect(200);

    await api()
      .post(`/api/v1/catalogue/resources/${enc(DEPRECATED)}/deprecate`)
      .set(bearer(c.office))
      .send({})
      .expect(200);

    await eventually(async () => (await api().get(`/api/v1/grants/${active}`).set(bearer(c.rs))).body.status === 'revoked');
    await eventually(async () => (await api().get(`/api/v1/grants/${suspended}`).set(bearer(c.rs))).body.status === 'revoked');
    const revoked = (await api().get(`/api/v1/grants/${active}`).set(bearer(c.rs)).expect(200)).body;
    expect(revoked).toMatchObject({ status: 'revoked', version: 2, statusReason: `resource ${DEPRECATED} deprecated` });
    expect(revoked.transitions.at(-1)).toMatchObject({ action: 'revoke', actorKind: 'system' });
    expect((await api().get(`/api/v1/grants/${other}`).set(bearer(c.rs)).expect(200)).body.status).toBe('active');

    await p.approval.relay.drain();
    const revocations = () => streamEvents(p.prefix, 'grant').then((es) => es.filter((e) => e.type === 'grant.revoked'));
    expect((await revocations()).map((e) => e.subject).sort()).toEqual([active, suspended].sort());

    // Redeliver the very same event: the consumer acknowledges it and changes nothing.
    const redis = new Redis(REDIS_URL);
    try {
      const stream = streamKey(p.prefix, 'resource');
      const entries = (await redis.xrange(stream, '-', '+')) as [string, string[]][];
      const original = entries.find(([, f]) => f.includes('event') && JSON.parse(f[f.indexOf('event') + 1]).type === 'resource.deprecated');
      expect(original).toBeDefined();
      const dupId = (await redis.xadd(stream, '*', ...original![1])) as string;
      await eventually(async () => {
        const groups = (await redis.xinfo('GROUPS', stream)) as unknown[][];
        const g = groups
          .map((row) => Object.fromEntries(row.reduce<[unknown, unknown][]>((acc, v, i, a) => (i % 2 ? acc : [...acc, [a[i], a[i + 1]]]), [])))
          .find((x) => x.name === 'request-approval');
        return g && g['last-delivered-id'] === dupId && Number(g.pending) === 0;
      });
    } finally {
      redis.disconnect();
    }
    await p.approval.relay.drain();
    expect(await revocations()).toHaveLength(2);
    expect((await api().get(`/api/v1/grants/${active}`).set(bearer(c.rs)).expect(200)).body.version).toBe(2);
  });

  it('no longer takes requests for the deprecated resource', async () => {
    const res = await api()
      .post('/api/v1/requests')
      .set(bearer(c.rs))
      .send(requestBody(DEPRECATED, ['creditCode']))
      .expect(409);
    expect(res.body).toMatchObject({ code: 'RESOURCE_NOT_PUBLISHED', field: 'body.resourceCode' });
  });
});
