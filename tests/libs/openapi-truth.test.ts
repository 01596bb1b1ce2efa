import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The platform document says what the platform does (issue 11 items 19, 20). It reads the
 * committed openapi/gdx.json; openapi-drift.test.ts holds that file equal to what the code generates.
 */
interface Response {
  description?: string;
  headers?: Record<string, unknown>;
  content?: Record<string, { schema?: unknown }>;
}
interface Operation {
  summary?: string;
  description?: string;
  responses: Record<string, Response>;
  requestBody?: { content: Record<string, unknown> };
  'x-error-codes'?: string[];
}
interface Doc {
  paths: Record<string, Record<string, Operation>>;
  components: { securitySchemes: Record<string, { type: string; flows?: { clientCredentials?: { tokenUrl?: string } } }> };
}

const gdx = JSON.parse(readFileSync(join(__dirname, '..', '..', 'openapi', 'gdx.json'), 'utf8')) as Doc;
const operations = Object.entries(gdx.paths).flatMap(([path, item]) => Object.entries(item).map(([method, op]) => ({ id: `${method.toUpperCase()} ${path}`, op })));

test('every problem answer is declared application/problem+json, never application/json (the token endpoint answers RFC 6749 errors)', () => {
  const wrong: string[] = [];
  for (const { id, op } of operations) {
    for (const [status, res] of Object.entries(op.responses)) {
      const problem = JSON.stringify(res.content ?? {}).includes('#/components/schemas/Problem');
      const fourxx = Number(status) >= 400 && Number(status) < 500 && id !== 'POST /api/v1/auth/token';
      if ((fourxx || problem) && Object.keys(res.content ?? {}).join() !== 'application/problem+json') wrong.push(`${id} ${status}`);
    }
  }
  expect(wrong).toEqual([]);
});

test('the interface query is the gateway’s definition: 429 with RateLimit-* and Retry-After headers', () => {
  const op = gdx.paths['/api/v1/query/{code}'].post;
  expect(Object.keys(op.responses['429'].headers ?? {}).sort()).toEqual(['RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset', 'Retry-After']);
  expect(Object.keys(op.responses['429'].content ?? {})).toEqual(['application/problem+json']);
  // data-query's own route answers 404/410 for the gateway; integrators meet the gateway's.
  expect(op.responses['410']).toBeUndefined();
});

test('the audit export is NDJSON; the token endpoint takes the form encoding and JSON', () => {
  expect(Object.keys(gdx.paths['/api/v1/audit/export'].get.responses['200'].content ?? {})).toEqual(['application/x-ndjson']);
  expect(Object.keys(gdx.paths['/api/v1/auth/token'].post.requestBody?.content ?? {}).sort()).toEqual(['application/json', 'application/x-www-form-urlencoded']);
});

test('Swagger UI can fetch a token itself: an OAuth2 client-credentials flow with the token URL, alongside http bearer', () => {
  const schemes = gdx.components.securitySchemes;
  expect(schemes.bearer.type).toBe('http');
  expect(schemes.oauth2.type).toBe('oauth2');
  expect(schemes.oauth2.flows?.clientCredentials?.tokenUrl).toBe('/api/v1/auth/token');
});

test('operations list the stable problem codes they may answer (x-error-codes, repeated in the description)', () => {
  const codes = (path: string, method: string) => gdx.paths[path][method]['x-error-codes'] ?? [];
  expect(codes('/api/v1/catalogue/resources', 'post')).toEqual(expect.arrayContaining(['ELEMENT_CLAIMED', 'NOT_YOUR_UNIT', 'CODE_EXISTS']));
  expect(codes('/api/v1/query/{code}', 'post')).toEqual(expect.arrayContaining(['NO_GRANT', 'ITEM_NOT_GRANTED', 'GRANT_NOT_ACTIVE', 'RATE_LIMITED', 'QUOTA_EXCEEDED']));
  expect(codes('/api/v1/data/{code}/batches', 'post')).toEqual(expect.arrayContaining(['BATCH_REJECTED', 'NOT_PROVIDER', 'ROLE_REQUIRED']));
  for (const { id, op } of operations) {
    for (const code of op['x-error-codes'] ?? []) expect([id, op.description?.includes(`\`${code}\``)]).toEqual([id, true]);
  }
});

test('every operation has a description, and the commitment is documented once', () => {
  expect(operations.filter(({ op }) => !op.description?.trim()).map(({ id }) => id)).toEqual([]);
  expect(operations.filter(({ id }) => id.endsWith('/commitment')).map(({ id }) => id)).toEqual(['GET /api/v1/commitment']);
});

test('an announced maintenance window is documented where the gateway answers it: 503 MAINTENANCE with Retry-After, and nowhere else', () => {
  const closable: [string, string][] = [
    ['/api/v1/query/{code}', 'post'],
    ['/api/v1/data/{code}/records', 'get'],
    ['/api/v1/data/{code}/batches', 'post'],
    ['/api/v1/subscriptions', 'post'],
    ['/api/v1/jobs', 'post'],
    ['/api/v1/jobs/{id}/result', 'get'],
  ];
  for (const [path, method] of closable) {
    const op = gdx.paths[path][method];
    expect([path, op['x-error-codes']]).toEqual([path, expect.arrayContaining(['MAINTENANCE'])]);
    expect([path, Object.keys(op.responses['503'].headers ?? {})]).toEqual([path, ['Retry-After']]);
  }
  for (const path of ['/api/v1/catalogue/resources', '/api/v1/notices', '/api/v1/objections', '/api/v1/audit/records'])
    expect([path, gdx.paths[path].get['x-error-codes'] ?? []]).toEqual([path, expect.not.arrayContaining(['MAINTENANCE'])]);
});

test('cases and notices document their states and the codes of every refusal', () => {
  const codes = (path: string, method: string) => gdx.paths[path][method]['x-error-codes'] ?? [];
  const schemas = (gdx as unknown as { components: { schemas: Record<string, { properties: Record<string, { enum?: string[] }> }> } }).components.schemas;
  expect(schemas.Case.properties.status.enum).toEqual([
    'awaiting_answer',
    'answered',
    'office_review',
    'submitted',
    'investigating',
    'ordered',
    'reported',
    'rectified',
    'circulated',
    'closed',
    'withdrawn',
  ]);
  expect(schemas.NoticeView.properties.status.enum).toEqual(['announced', 'cancelled']);
  expect(codes('/api/v1/objections', 'post')).toEqual(expect.arrayContaining(['NO_GRANT', 'ITEM_NOT_GRANTED']));
  expect(codes('/api/v1/objections/{id}/answer', 'post')).toEqual(expect.arrayContaining(['NOT_PROVIDER', 'UNKNOWN_BATCH', 'BATCH_NOT_LATER', 'ILLEGAL_TRANSITION']));
  expect(codes('/api/v1/objections/{id}/escalate', 'post')).toEqual(expect.arrayContaining(['NOT_YET_OVERDUE', 'ILLEGAL_TRANSITION']));
  expect(codes('/api/v1/rectifications', 'post')).toEqual(expect.arrayContaining(['DUE_DATE_NOT_FUTURE', 'ORIGIN_MISMATCH']));
  expect(codes('/api/v1/notices', 'post')).toEqual(expect.arrayContaining(['NOTICE_TOO_SHORT', 'EMERGENCY_REASON_REQUIRED', 'NOT_YOUR_RESOURCE', 'SERVICES_OFFICE_ONLY']));
  expect(codes('/api/v1/notices/{id}', 'patch')).toEqual(expect.arrayContaining(['NOT_ISSUER', 'NOTICE_TOO_SHORT', 'ILLEGAL_TRANSITION']));
  for (const path of ['/api/v1/objections', '/api/v1/complaints', '/api/v1/rectifications', '/api/v1/rectifications/circulars', '/api/v1/notices'])
    expect(Object.keys(gdx.paths[path])).toContain('get');
});
