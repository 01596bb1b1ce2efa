import request from 'supertest';
import { seedUnits, startProcesses, type RunningPlatform } from '../helpers/processes';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { deleteKeys, testPrefix } from '../helpers/redis';

/**
 * Issue 16 item 4: a rollout sends SIGTERM (after the pod left the Service's endpoints, the
 * preStop sleep); every call the service had already taken must still be answered, not cut.
 * Measured before the fix: calls in flight on a keep-alive connection got ECONNRESET.
 */
let db: TestDatabase;
let platform: RunningPlatform;
const prefix = testPrefix();
let token: string;

beforeAll(async () => {
  db = await createTestDatabase();
  const { creds } = await seedUnits(db.url, ['OFFICE', 'RS']);
  platform = await startProcesses(db.url, prefix, ['gateway', 'catalogue']);
  const rs = creds.accounts.find((a) => a.username === 'rs.admin')!;
  token = (await request(platform.urls.gateway).post('/api/v1/auth/login').send({ username: rs.username, password: rs.password }).expect(200)).body.access_token as string;
});
afterAll(async () => {
  await platform?.stop();
  await db?.drop();
  await deleteKeys(prefix);
});

test('SIGTERM under load: every call taken before it is answered in full, and the service exits cleanly', async () => {
  const url = `${platform.urls.catalogue}/api/v1/catalogue/resources?q=${encodeURIComponent('人口')}&limit=50`;
  let terminating = false;
  /** When SIGTERM was sent. A call sent in its last moments may reach the server after it: refused with a full 503 answer (rightly), never cut. */
  let sigterm = Infinity;
  const MARGIN_MS = 250;
  const before: { status: number | string; sentAt: number }[] = [];
  const after: (number | string)[] = [];
  // 24 clients on keep-alive connections, as the gateway's pool is, calling without pause.
  const clients = Array.from({ length: 24 }, async () => {
    while (!terminating) {
      // Taken before SIGTERM or not: what a client sends once the pod is going is the endpoints' business (it left them).
      const sentBefore = !terminating;
      const sentAt = Date.now();
      const outcome = await fetch(url, { headers: { authorization: `Bearer ${token}` } }).then(
        async (r) => {
          await r.arrayBuffer();
          return r.status;
        },
        (err: Error & { cause?: { code?: string } }) => err.cause?.code ?? err.message,
      );
      if (sentBefore) before.push({ status: outcome, sentAt });
      else after.push(outcome);
    }
  });
  // Let the load settle, then terminate the service mid-stream of calls.
  await new Promise((r) => setTimeout(r, 1_500));
  sigterm = Date.now();
  const exited = platform.terminate('catalogue');
  terminating = true;
  await Promise.all(clients);
  expect(await exited).toBe(0);
  expect(before.length).toBeGreaterThan(100);
  // Every call sent before SIGTERM, those in flight included, has a whole answer: 200, or the closing 503 for one that
  // arrived just after it. Never a reset connection.
  const failed = before.filter((c) => c.status !== 200 && !(c.status === 503 && c.sentAt >= sigterm - MARGIN_MS));
  expect(failed).toEqual([]);
});
