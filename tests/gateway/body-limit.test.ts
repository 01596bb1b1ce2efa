import { Agent, request as httpRequest } from 'node:http';
import { startPlatform, type TestPlatform } from '../helpers/platform';
import { addUser, type TestUser } from '../helpers/gateway';

/**
 * Issue 11 item 10: a body over the limit on a proxied route is answered 413 by the
 * gateway itself, before anything is forwarded, whether its length is declared or
 * it arrives chunked, and the keep-alive connection it came on serves the next call.
 */
let platform: TestPlatform;
let user: TestUser;
const agent = new Agent({ keepAlive: true, maxSockets: 1 });
const LIMIT = 1_048_576;

beforeAll(async () => {
  platform = await startPlatform(['catalogue', 'request-approval']);
  user = await addUser(platform.gateway, 'RS', ['unit_operator']);
});
afterAll(async () => {
  agent.destroy();
  await platform?.close();
});

interface Answer {
  status: number;
  type: string;
  body: string;
}

/** One call on the shared single-socket agent; `chunked` sends the body in pieces without a length. */
function call(method: string, path: string, body?: Buffer, chunked = false): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const url = new URL(path, platform.gatewayUrl);
    const headers: Record<string, string | number> = { authorization: `Bearer ${user.token}`, 'content-type': 'application/json' };
    if (body && !chunked) headers['content-length'] = body.length;
    const req = httpRequest(url, { method, agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    // The client may still be writing when the answer comes; the answer is what counts.
    req.on('error', reject);
    if (body && chunked) {
      for (let i = 0; i < body.length; i += 64 * 1024) req.write(body.subarray(i, i + 64 * 1024));
      req.end();
    } else req.end(body);
  });
}

const oversized = () => Buffer.from(JSON.stringify({ purpose: 'x'.repeat(Math.round(LIMIT * 1.1)) }));

test('20 oversized uploads (declared length and chunked) all get 413 problem+json, and the next call on the same connection succeeds', async () => {
  for (let i = 0; i < 20; i++) {
    const res = await call('POST', '/api/v1/requests', oversized(), i % 2 === 1);
    expect(res.status).toBe(413);
    expect(res.type).toContain('application/problem+json');
    expect(JSON.parse(res.body)).toMatchObject({ status: 413, code: 'BODY_TOO_LARGE' });
  }
  const next = await call('GET', '/api/v1/requests');
  expect(next.status).toBe(200);
});

test('a chunked body within the limit is still forwarded whole', async () => {
  // An invalid request form: the service behind the gateway read it and answered with its own validation problem.
  const res = await call('POST', '/api/v1/requests', Buffer.from(JSON.stringify({ resourceCode: 'x'.repeat(200_000) })), true);
  expect(res.status).toBe(400);
  expect(JSON.parse(res.body)).toMatchObject({ code: expect.stringMatching(/VALIDATION|BAD_REQUEST/) as unknown });
  const next = await call('GET', '/api/v1/requests');
  expect(next.status).toBe(200);
});
