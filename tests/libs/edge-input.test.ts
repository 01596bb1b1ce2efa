import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import request from 'supertest';
import { registerErrorHandler } from '@gdx/errors';
import { decodeCursor, encodeCursor, findBadText, isTimestampText } from '@gdx/service-kit';
import { startPlatform, type TestPlatform } from '../helpers/platform';
import { addUser, type TestUser } from '../helpers/gateway';

/**
 * Issue 11 items 5, 6, 9 and 18 at the edge every service shares (service-kit's
 * createBaseApp and the one error handler of @gdx/errors), tried through the gateway.
 */
let platform: TestPlatform;
let admin: TestUser;
let office: TestUser;
const api = () => request(platform.gatewayUrl);
const bearer = (u: TestUser) => ({ authorization: `Bearer ${u.token}` });
const PROBLEM = /^application\/problem\+json/;

beforeAll(async () => {
  platform = await startPlatform(['catalogue', 'audit'], { config: { audit: { auditKeysDir: mkdtempSync(join(tmpdir(), 'gdx-audit-keys-')) } } });
  admin = await addUser(platform.gateway, 'GA', ['unit_admin']);
  office = await addUser(platform.gateway, 'OFFICE', ['office_admin', 'office_auditor']);
  // The services fetch the gateway's JWKS once before calls race.
  await api().get('/api/v1/catalogue/resources').set(bearer(admin)).expect(200);
  await api().get('/api/v1/audit/records').set(bearer(office)).expect(200);
});
afterAll(async () => {
  await platform?.close();
});

/** A JSON text whose string holds a lone high surrogate (JSON.stringify would escape it the same way). */
const loneSurrogateJson = (key: string) => `{"${key}":"ab\\ud800cd"}`;

describe('item 5: NUL and lone surrogates are refused at the edge, 400 INVALID_TEXT naming the input', () => {
  test('NUL in a body field of a proxied write route (resource creation)', async () => {
    const res = await api().post('/api/v1/catalogue/resources').set(bearer(admin)).send({ code: '301010/0001', name: 'x\u0000y' });
    expect(res.status).toBe(400);
    expect(res.type).toMatch(PROBLEM);
    expect(res.body).toMatchObject({ status: 400, code: 'INVALID_TEXT', field: 'body.name' });
  });

  test('a lone surrogate in a nested body field names its path', async () => {
    const res = await api().post('/api/v1/catalogue/resources').set(bearer(admin)).set('content-type', 'application/json').send(`{"code":"301010/0001","items":[{"key":"ok"},{"key":"a\\udc00"}]}`);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 'INVALID_TEXT', field: 'body.items.1.key' });
  });

  test('on the gateway’s own public login route', async () => {
    const nul = await api().post('/api/v1/auth/login').send({ username: 'a\u0000', password: 'x' });
    expect(nul.status).toBe(400);
    expect(nul.body).toMatchObject({ code: 'INVALID_TEXT', field: 'body.username' });
    const surrogate = await api().post('/api/v1/auth/login').set('content-type', 'application/json').send(loneSurrogateJson('username'));
    expect(surrogate.status).toBe(400);
    expect(surrogate.body).toMatchObject({ code: 'INVALID_TEXT', field: 'body.username' });
  });

  test('in query parameters (q, resourceCode) and in the path', async () => {
    const q = await api().get('/api/v1/catalogue/resources?q=%00').set(bearer(admin));
    expect(q.status).toBe(400);
    expect(q.body).toMatchObject({ code: 'INVALID_TEXT', field: 'querystring.q' });
    const code = await api().get('/api/v1/audit/records?resourceCode=a%00').set(bearer(office));
    expect(code.status).toBe(400);
    expect(code.body).toMatchObject({ code: 'INVALID_TEXT', field: 'querystring.resourceCode' });
    const path = await api().get('/api/v1/catalogue/resources/301010%2F00%001').set(bearer(admin));
    expect(path.status).toBe(400);
    expect(path.body).toMatchObject({ code: 'INVALID_TEXT', field: 'path' });
  });

  test('a query string that does not decode to UTF-8 (an encoded lone surrogate, a bad escape) is refused, not a proxy failure', async () => {
    for (const qs of ['q=%ED%A0%80', 'q=%zz']) {
      const res = await api().get(`/api/v1/catalogue/resources?${qs}`).set(bearer(admin));
      expect({ qs, status: res.status, code: res.body.code, field: res.body.field }).toEqual({ qs, status: 400, code: 'INVALID_TEXT', field: 'querystring' });
    }
  });

  test('every service has the check itself (the catalogue called directly names params.code)', async () => {
    const res = await request(platform.services.catalogue!.server).get('/api/v1/catalogue/resources/ab%00c').set(bearer(admin));
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 'INVALID_TEXT', field: 'params.code' });
  });

  test('the interface query route still reaches its handler and refuses on its own path (INVALID_TEXT, not a grant decision)', async () => {
    const body = await api()
      .post('/api/v1/query/301010%2F0001')
      .set(bearer(admin))
      .send({ items: ['idNumber', 'x\u0000'], where: { idNumber: '1' } });
    expect({ status: body.status, body: body.body }).toMatchObject({ status: 400 });
    expect(body.type).toMatch(PROBLEM);
    expect(body.body).toMatchObject({ code: 'INVALID_TEXT', field: 'body.items.1' });
    const path = await api()
      .post('/api/v1/query/%00')
      .set(bearer(admin))
      .send({ items: ['idNumber'], where: { idNumber: '1' } });
    expect(path.status).toBe(400);
    expect(path.body).toMatchObject({ code: 'INVALID_TEXT', field: 'params.code' });
  });

  test('well-formed text, surrogate pairs (emoji, rare CJK) included, passes the check', () => {
    expect(findBadText({ name: '𠀀 😀 蚌埠', items: ['a', { k: 'b' }] })).toBeUndefined();
    expect(findBadText({ a: ['x', 'y\uDFFF'] })).toEqual(['a', '1']);
    expect(findBadText({ ['k\u0000']: 1 })).toHaveLength(1);
  });
});

describe('item 6: forged cursors are 400 INVALID_CURSOR', () => {
  const cursor = (parts: unknown[]) => encodeCursor(parts);

  test('on the catalogue search: wrong types for the sort, impossible timestamps, NUL, a non-uuid id', async () => {
    const forged = [
      ['updatedAt', 'yesterday', randomUUID()],
      ['updatedAt', '2025-02-30 08:00:00+00', randomUUID()],
      ['updatedAt', 12, randomUUID()],
      ['name', 'a\u0000', randomUUID()],
      ['name', 'a', '------------------------------------'],
      ['name', 'a'],
    ];
    for (const parts of forged) {
      const sort = parts[0] as string;
      const res = await api()
        .get(`/api/v1/catalogue/resources?sort=${sort}&cursor=${cursor(parts)}`)
        .set(bearer(admin));
      expect({ parts, status: res.status, code: res.body.code }).toEqual({ parts, status: 400, code: 'INVALID_CURSOR' });
    }
  });

  test('a cursor the catalogue gave out still pages', async () => {
    const res = await api()
      .get(`/api/v1/catalogue/resources?sort=updatedAt&cursor=${cursor(['updatedAt', '2026-01-01 00:00:00.123456+00', randomUUID()])}`)
      .set(bearer(admin));
    expect(res.status).toBe(200);
  });

  test('on the audit trail: ["1", uuid]', async () => {
    const res = await api()
      .get(`/api/v1/audit/records?cursor=${cursor(['1', randomUUID()])}`)
      .set(bearer(office));
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 'INVALID_CURSOR', field: 'querystring.cursor' });
  });

  test('the codec: text with NUL never reaches accept; timestamps are real calendar instants', () => {
    const accept = jest.fn((parts: unknown[]) => parts);
    expect(() => decodeCursor(cursor(['a\u0000']), accept)).toThrow(expect.objectContaining({ code: 'INVALID_CURSOR' }));
    expect(accept).not.toHaveBeenCalled();
    expect(isTimestampText('2024-02-29 00:00:00+00')).toBe(true);
    expect(isTimestampText('2025-02-29 00:00:00+00')).toBe(false);
    expect(isTimestampText('0000-01-01T00:00:00Z')).toBe(false);
    expect(isTimestampText('2026-12-02T03:04:53.123Z')).toBe(true);
    expect(isTimestampText('-infinity')).toBe(true);
    expect(isTimestampText('1')).toBe(false);
  });
});

describe('item 9: numbers out of range and long or malformed URLs are problems, not 500 or fastify’s own format', () => {
  test('a version number beyond any integer is 400 problem+json', async () => {
    const res = await api().get('/api/v1/catalogue/resources/301010%2F0001/versions/99999999999999999999').set(bearer(admin));
    expect(res.status).toBe(400);
    expect(res.type).toMatch(PROBLEM);
    expect(res.body).toMatchObject({ status: 400, code: 'VALIDATION_FAILED', field: 'params.version' });
  });

  test('a path segment over 100 characters is 414 problem+json (proxied and on the gateway’s own routes)', async () => {
    const long = 'a'.repeat(150);
    for (const res of [
      await api().get(`/api/v1/catalogue/resources/${long}`).set(bearer(admin)),
      await api()
        .post(`/api/v1/query/${long}`)
        .set(bearer(admin))
        .send({ items: ['a'], where: { a: '1' } }),
    ]) {
      expect(res.status).toBe(414);
      expect(res.type).toMatch(PROBLEM);
      expect(res.body).toMatchObject({ status: 414, code: 'URI_TOO_LONG' });
      expect(res.body.requestId).toEqual(expect.any(String));
    }
  });

  test('a path that does not percent-decode is 400 MALFORMED_URL problem+json', async () => {
    const res = await api().get('/api/v1/units/%ED%A0%80').set(bearer(office));
    expect(res.status).toBe(400);
    expect(res.type).toMatch(PROBLEM);
    expect(res.body).toMatchObject({ status: 400, code: 'MALFORMED_URL' });
  });

  test('a value PostgreSQL refuses as data (SQLSTATE class 22) is 400 INVALID_VALUE, revealing nothing of the database', async () => {
    const app = Fastify();
    registerErrorHandler(app);
    app.get('/range', () => Promise.reject(Object.assign(new Error('value "99999999999999999999" is out of range for type integer'), { code: '22003' })));
    app.get('/wrapped', () => Promise.reject(Object.assign(new Error('query failed'), { driverError: { code: '22P02' } })));
    app.get('/other', () => Promise.reject(Object.assign(new Error('deadlock detected'), { code: '40P01' })));
    for (const url of ['/range', '/wrapped']) {
      const res = await app.inject({ url });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ code: 'INVALID_VALUE' });
      expect(res.body).not.toMatch(/integer|out of range for type/);
    }
    expect((await app.inject({ url: '/other' })).statusCode).toBe(500);
    await app.close();
  });

  test('malformed JSON, an unsupported media type and an unknown route are problems with stable codes', async () => {
    const json = await api().post('/api/v1/auth/login').set('content-type', 'application/json').send('{"username":');
    expect(json.status).toBe(400);
    expect(json.type).toMatch(PROBLEM);
    const proxiedJson = await api().post('/api/v1/catalogue/resources').set(bearer(admin)).set('content-type', 'application/json').send('{"code":');
    expect(proxiedJson.status).toBe(400);
    expect(proxiedJson.type).toMatch(PROBLEM);
    expect(proxiedJson.body.code).toBe('MALFORMED_BODY');
    const media = await api().post('/api/v1/catalogue/resources').set(bearer(admin)).set('content-type', 'text/csv').send('a,b');
    expect(media.status).toBe(415);
    expect(media.type).toMatch(PROBLEM);
    expect(media.body.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    const missing = await api().get('/api/v2/nothing').set(bearer(admin));
    expect(missing.status).toBe(404);
    expect(missing.type).toMatch(PROBLEM);
    expect(missing.body.code).toBe('ROUTE_NOT_FOUND');
  });
});

describe('item 18: security headers from helmet', () => {
  test('nosniff and no-store on API answers, proxied or not, successful or refused', async () => {
    for (const res of [
      await api().get('/api/v1/catalogue/resources').set(bearer(admin)),
      await api().get('/api/v1/audit/records').set(bearer(office)),
      await api().get('/api/v1/catalogue/resources'),
      await api().get('/api/v1/units').set(bearer(office)),
    ]) {
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['cache-control']).toBe('no-store');
    }
    const health = await api().get('/health/live');
    expect(health.headers['x-content-type-options']).toBe('nosniff');
  });

  test('/docs may not be framed and Swagger UI’s page and scripts load under its policy', async () => {
    const page = await api().get('/docs/');
    expect(page.status).toBe(200);
    expect(page.type).toBe('text/html');
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(page.headers['x-frame-options']).toBe('DENY');
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    // Only same-origin script files, which script-src 'self' allows: no inline script to block.
    const html = page.text;
    expect(html).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/);
    const scripts = [...html.matchAll(/<script[^>]*\ssrc="([^"]+)"/g)].map((m) => new URL(m[1], 'http://gw/docs/'));
    expect(scripts.length).toBeGreaterThan(0);
    for (const src of scripts) {
      expect(src.host).toBe('gw');
      const js = await api().get(src.pathname);
      expect({ src: src.pathname, status: js.status, nosniff: js.headers['x-content-type-options'] }).toEqual({ src: src.pathname, status: 200, nosniff: 'nosniff' });
      expect(js.type).toMatch(/javascript/);
    }
    const bare = await api().get('/docs');
    expect(bare.status).toBe(200);
    expect(String(bare.headers['content-security-policy'])).toContain("frame-ancestors 'none'");
  });
});
