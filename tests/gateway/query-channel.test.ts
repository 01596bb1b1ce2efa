import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Pool } from 'undici';
import type { BatchedCall } from '@gdx/contracts';
import { QueryChannel } from '@gdx/gateway/testing';

/**
 * The channel against a real HTTP server on loopback that stands in for data-query's
 * batch route, so the test can hold a batch and see what gathers behind it.
 */
interface Received {
  calls: BatchedCall[];
  res: ServerResponse;
}

let server: Server;
let pool: Pool;
const received: Received[] = [];
let waiters: (() => void)[] = [];

beforeAll(async () => {
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      received.push({ calls: JSON.parse(body).calls, res });
      for (const w of waiters) w();
      waiters = [];
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  pool = new Pool(`http://127.0.0.1:${(server.address() as { port: number }).port}`, { connections: 4 });
});
afterAll(async () => {
  await pool.close();
  await new Promise((r) => server.close(r));
});
beforeEach(() => {
  received.length = 0;
});

function batchesReceived(n: number): Promise<void> {
  return new Promise((resolve) => {
    const check = () => (received.length >= n ? resolve() : waiters.push(check));
    check();
  });
}

const call = (i: number): BatchedCall => ({ code: '101001/0001', authorization: `Bearer t${i}`, requestId: `r${i}`, sourceAddress: '127.0.0.1', body: { where: { n: i } } });
const answer = (r: Received, status = 200, results = r.calls.map((c) => ({ status: 200, body: { echo: c.requestId } }))) => {
  r.res.writeHead(status, { 'content-type': 'application/json' });
  r.res.end(JSON.stringify({ results }));
};

test('calls made while a batch is out gather and leave together; each caller gets its own result', async () => {
  const channel = new QueryChannel(pool, 1, 64);
  const first = channel.send(call(0));
  await batchesReceived(1);
  expect(received[0].calls.map((c) => c.requestId)).toEqual(['r0']);
  const rest = Array.from({ length: 9 }, (_, i) => channel.send(call(i + 1)));
  // Nothing else leaves while the one allowed batch is out.
  await new Promise((r) => setTimeout(r, 50));
  expect(received).toHaveLength(1);
  answer(received[0]);
  expect(await first).toEqual({ status: 200, body: { echo: 'r0' } });
  await batchesReceived(2);
  expect(received[1].calls.map((c) => c.requestId)).toEqual(['r1', 'r2', 'r3', 'r4', 'r5', 'r6', 'r7', 'r8', 'r9']);
  expect(received[1].calls[3]).toEqual(call(4));
  answer(received[1]);
  expect((await Promise.all(rest)).map((r) => (r.body as { echo: string }).echo)).toEqual(['r1', 'r2', 'r3', 'r4', 'r5', 'r6', 'r7', 'r8', 'r9']);
  expect(channel.stats).toEqual({ calls: 10, batches: 2 });
});

/** One call goes out and is held while `queued` more gather; then every batch is answered as it comes. */
async function batchSizes(channel: QueryChannel, queued: number, batches: number): Promise<number[]> {
  const first = channel.send(call(0));
  await batchesReceived(1);
  const rest = Array.from({ length: queued }, (_, i) => channel.send(call(i + 1)));
  answer(received[0]);
  await first;
  for (let n = 2; n <= batches; n++) {
    await batchesReceived(n);
    answer(received[n - 1]);
  }
  await Promise.all(rest);
  return received.map((r) => r.calls.length);
}

test('a batch never holds more than maxCalls calls', async () => {
  expect(await batchSizes(new QueryChannel(pool, 1, 3), 7, 4)).toEqual([1, 3, 3, 1]);
});

test('a refused or malformed batch answer fails every call of that batch, and only those', async () => {
  const channel = new QueryChannel(pool, 1, 64);
  const a = channel.send(call(1));
  await batchesReceived(1);
  const b = channel.send(call(2));
  const c = channel.send(call(3));
  answer(received[0], 503, []);
  await expect(a).rejects.toThrow(/503/);
  await batchesReceived(2);
  // Two calls, one result: nobody may get someone else's answer.
  answer(received[1], 200, [{ status: 200, body: { echo: 'r2' } }]);
  await expect(b).rejects.toThrow(/wrong number/);
  await expect(c).rejects.toThrow(/wrong number/);
  const d = channel.send(call(4));
  await batchesReceived(3);
  answer(received[2]);
  expect(await d).toEqual({ status: 200, body: { echo: 'r4' } });
});

test('a batch is also closed by size: a lone call always goes, others only while they fit', async () => {
  const one = JSON.stringify(call(1)).length;
  expect(await batchSizes(new QueryChannel(pool, 1, 64, 2 * one + 1), 5, 4)).toEqual([1, 2, 2, 1]);
});

test('a result the route could not send (no status) fails the batch rather than reach a caller', async () => {
  const channel = new QueryChannel(pool, 1, 64);
  const a = channel.send(call(1));
  await batchesReceived(1);
  answer(received[0], 200, [{ body: { echo: 'r1' } } as never]);
  await expect(a).rejects.toThrow(/malformed/);
});

test('an upstream that is not there fails the calls (the route answers 503 UPSTREAM_UNAVAILABLE)', async () => {
  // A port that was just free and is closed again: nothing listens there, whatever runs on this machine.
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const { port } = probe.address() as { port: number };
  await new Promise((r) => probe.close(r));
  const nowhere = new Pool(`http://127.0.0.1:${port}`, { connections: 1 });
  const channel = new QueryChannel(nowhere, 2, 64);
  await expect(Promise.all([channel.send(call(1)), channel.send(call(2))])).rejects.toThrow();
  await nowhere.close();
});
