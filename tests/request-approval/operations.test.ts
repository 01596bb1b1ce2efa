import request from 'supertest';
import type { App } from '@gdx/service-kit';
import type { TestPlatform } from '../helpers/platform';
import { bearer, cast, publishReference, requestBody, startApprovalPlatform, type Cast } from './support';

describe('request-approval operations', () => {
  let p: TestPlatform & { approval: App };
  let c: Cast;

  beforeAll(async () => {
    p = await startApprovalPlatform();
    c = await cast(p.gateway);
  });
  afterAll(() => p?.close());

  it('documents every route with tags, a summary and problem responses', async () => {
    const doc = (await request(p.approval.server).get('/openapi.json').expect(200)).body as {
      paths: Record<string, Record<string, { tags?: string[]; summary?: string; responses: Record<string, unknown> }>>;
    };
    const expected = [
      '/api/v1/requests',
      '/api/v1/requests/{id}',
      '/api/v1/requests/{id}/filing',
      '/api/v1/requests/{id}/review',
      '/api/v1/requests/{id}/confirm',
      '/api/v1/requests/{id}/withdraw',
      '/api/v1/grants',
      '/api/v1/grants/snapshot',
      '/api/v1/grants/{id}',
      '/api/v1/grants/{id}/suspend',
      '/api/v1/grants/{id}/resume',
      '/api/v1/grants/{id}/revoke',
      '/api/v1/commitment',
    ];
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(expected));
    for (const path of expected) {
      for (const [method, op] of Object.entries(doc.paths[path])) {
        expect({ path, method, tagged: !!op.tags?.length, summary: !!op.summary, has401: '401' in op.responses }).toEqual({ path, method, tagged: true, summary: true, has401: true });
      }
    }
  });

  it('appears in the platform document the gateway serves', async () => {
    const merged = (await request(p.gatewayUrl).get('/openapi.json').expect(200)).body as { paths: Record<string, unknown>; components?: { schemas?: Record<string, unknown> } };
    expect(Object.keys(merged.paths)).toEqual(expect.arrayContaining(['/api/v1/requests', '/api/v1/grants/snapshot', '/api/v1/requests/{id}/filing']));
  });

  it('is ready when PostgreSQL and Redis are', async () => {
    await request(p.approval.server).get('/health/ready').expect(200);
  });

  it('keeps the transition history append-only in the database itself', async () => {
    await publishReference(p.gatewayUrl, '101001/0001', c.ga, c.office);
    const filed = (
      await request(p.gatewayUrl)
        .post('/api/v1/requests')
        .set(bearer(c.rs))
        .send(requestBody('101001/0001', ['idNumber']))
        .expect(201)
    ).body;
    await expect(p.approval.db.query('UPDATE transition SET reason = $1 WHERE subject_id = $2', ['rewritten', filed.id])).rejects.toThrow(/append-only/);
    await expect(p.approval.db.query('DELETE FROM transition WHERE subject_id = $1', [filed.id])).rejects.toThrow(/append-only/);
    const rows = await p.approval.db.query('SELECT reason FROM transition WHERE subject_id = $1', [filed.id]);
    expect(rows).toEqual([{ reason: filed.purpose }]);
  });

  it('answers 503 with a stable code when the catalogue is away, and writes nothing', async () => {
    const before = (await request(p.gatewayUrl).get('/api/v1/requests').set(bearer(c.rs)).expect(200)).body.items.length;
    const catalogue = p.services.catalogue!;
    await catalogue.close();
    delete p.services.catalogue;
    const res = await request(p.gatewayUrl)
      .post('/api/v1/requests')
      .set(bearer(c.rs))
      .send(requestBody('101001/0001', ['idNumber']))
      .expect(503);
    expect(res.body.code).toBe('CATALOGUE_UNAVAILABLE');
    expect((await request(p.gatewayUrl).get('/api/v1/requests').set(bearer(c.rs)).expect(200)).body.items.length).toBe(before);
  });
});
