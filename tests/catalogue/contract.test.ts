import request from 'supertest';
import { startPlatform, type TestPlatform } from '../helpers/platform';
import { addUser, type TestUser } from '../helpers/gateway';
import { auth, resourceBody } from './catalogue-fixtures';

let platform: TestPlatform;
let gaAdmin: TestUser;

beforeAll(async () => {
  // The catalogue is pointed at a gateway address where nothing listens (the discard port).
  platform = await startPlatform(['catalogue'], { service: { gatewayUrl: 'http://127.0.0.1:9', unitLookupTimeoutMs: 500 } });
  gaAdmin = await addUser(platform.gateway, 'GA', ['unit_admin']);
});
afterAll(async () => {
  await platform?.close();
});

test('when the unit directory cannot be asked, creation answers 503 and saves nothing', async () => {
  const res = await request(platform.gatewayUrl).post('/api/v1/catalogue/resources').set(auth(gaAdmin)).send(resourceBody(gaAdmin.unitId)).expect(503);
  expect(res.body).toMatchObject({ code: 'UNIT_DIRECTORY_UNAVAILABLE', status: 503 });
  const list = await request(platform.gatewayUrl).get('/api/v1/catalogue/resources').set(auth(gaAdmin)).expect(200);
  expect(list.body).toEqual({ items: [], nextCursor: null });
});

test('an empty catalogue exports an empty dcat:Catalog', async () => {
  const res = await request(platform.gatewayUrl).get('/api/v1/catalogue/dcat').set(auth(gaAdmin)).expect(200);
  const doc = JSON.parse(res.text);
  expect(doc).toMatchObject({ '@type': 'dcat:Catalog', 'dcat:dataset': [] });
  expect(doc).not.toHaveProperty('dct:modified');
  expect(doc['hydra:view']).not.toHaveProperty('hydra:next');
});

test('the OpenAPI document describes every catalogue route with schemas and problem responses', async () => {
  const res = await request(platform.services.catalogue!.server).get('/openapi.json').expect(200);
  const paths = res.body.paths as Record<string, Record<string, { summary?: string; tags?: string[]; responses: Record<string, unknown> }>>;
  expect(
    Object.keys(paths)
      .filter((p) => p.startsWith('/api/v1/catalogue'))
      .sort(),
  ).toEqual([
    '/api/v1/catalogue/dcat',
    '/api/v1/catalogue/elements',
    '/api/v1/catalogue/resources',
    '/api/v1/catalogue/resources/{code}',
    '/api/v1/catalogue/resources/{code}/deprecate',
    '/api/v1/catalogue/resources/{code}/publish',
    '/api/v1/catalogue/resources/{code}/versions',
    '/api/v1/catalogue/resources/{code}/versions/{version}',
  ]);
  for (const [p, ops] of Object.entries(paths).filter(([p]) => p.startsWith('/api/v1/catalogue'))) {
    for (const [method, op] of Object.entries(ops)) {
      expect([p, method, !!op.summary, op.tags, '401' in op.responses]).toEqual([p, method, true, ['catalogue'], true]);
    }
  }
  const create = paths['/api/v1/catalogue/resources'].post as unknown as { requestBody: { content: Record<string, { schema: { properties: Record<string, unknown> } }> } };
  expect(Object.keys(create.requestBody.content['application/json'].schema.properties)).toEqual(expect.arrayContaining(['code', 'classification', 'items', 'sharing', 'methods', 'updateCycle']));
});

test('the gateway’s merged OpenAPI document carries the catalogue’s routes', async () => {
  const res = await request(platform.gatewayUrl).get('/openapi.json').expect(200);
  expect(Object.keys(res.body.paths)).toEqual(expect.arrayContaining(['/api/v1/catalogue/resources', '/api/v1/catalogue/resources/{code}/versions/{version}', '/api/v1/catalogue/dcat']));
});
