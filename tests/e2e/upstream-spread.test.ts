import { connect, createServer, type Server, type Socket } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import * as dataQuery from '@gdx/data-query';
import { personOf } from '@gdx/data-query/testing';
import type { App } from '@gdx/service-kit';
import { freePort, startPlatform, type TestPlatform } from '../helpers/platform';
import { addUser, type TestUser } from '../helpers/gateway';
import { REDIS_URL } from '../helpers/redis';
import { eventually } from '../helpers/wait';
import { dataQueryUrl, enc, EventWriter, grantOf, starterResource } from '../data-query/support';

/**
 * Issue 16 (6): a Kubernetes Service balances connections, not requests. The gateway kept its
 * connections to data-query forever, so a replica added by the autoscaler got nothing. Here a
 * connection balancer (kube-proxy's part: each new connection to the next backend) stands in
 * front of data-query; a second data-query process joins once the gateway's connections are
 * all open to the first. The gateway replaces its connections (upstreamConnectionTtlMs), so the
 * newcomer gets its share. Without the replacement it would get none: the gateway's pool never
 * opens more connections than it had, and the servers keep them alive for 72 s.
 */
interface Balancer {
  url: string;
  backends: number[];
  /** Interface-query batches forwarded to each backend port. */
  batches: Map<number, number>;
  close: () => Promise<void>;
}

async function balancer(): Promise<Balancer> {
  const port = await freePort();
  const b: Balancer = { url: `http://127.0.0.1:${port}`, backends: [], batches: new Map(), close: async () => undefined };
  const sockets = new Set<Socket>();
  let next = 0;
  const server: Server = createServer((client) => {
    // Nothing behind it yet (the gateway's first look at data-query comes before the test adds it): refused, as kube-proxy would.
    if (!b.backends.length) return void client.destroy();
    const target = b.backends[next++ % b.backends.length];
    const upstream = connect(target, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    client.on('data', (chunk: Buffer) => {
      const n = chunk.toString('latin1').split('POST /internal/v1/query-batches').length - 1;
      if (n) b.batches.set(target, (b.batches.get(target) ?? 0) + n);
    });
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  b.close = () =>
    new Promise((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
  return b;
}

let lb: Balancer;
let platform: TestPlatform;
let events: EventWriter;
let consumer: TestUser;
let second: App | undefined;
const CODE = '101001/0001';
const people = Array.from({ length: 20 }, (_, i) => personOf(i));

beforeAll(async () => {
  lb = await balancer();
  platform = await startPlatform(['request-approval', 'data-query'], { gateway: { dataQueryUrl: lb.url, upstreamConnectionTtlMs: 1_000, queryBatchesInFlight: 4 } });
  lb.backends.push(Number(new URL(dataQueryUrl(platform)).port));
  events = new EventWriter(platform);
  const provider = await addUser(platform.gateway, 'GA', ['unit_admin']);
  consumer = await addUser(platform.gateway, 'LZH', ['unit_admin']);
  await events.resource(starterResource(CODE, provider.unitId));
  const rows = people.map((p, i) => JSON.stringify({ idNumber: p.idNumber, name: `李四${i}`, sex: p.sex, birthDate: p.birthDate, regionCode: p.regionCode })).join('\n');
  await request(dataQueryUrl(platform))
    .post(`/api/v1/data/${enc(CODE)}/batches`)
    .set('authorization', `Bearer ${provider.token}`)
    .set('content-type', 'application/x-ndjson')
    .send(rows)
    .expect(200);
  await events.grant(
    grantOf({ consumerUnitId: consumer.unitId, providerUnitId: provider.unitId, resourceCode: CODE, items: ['idNumber', 'name'], rateLimitPerSecond: 100_000, dailyQuota: 10_000_000 }),
  );
  await eventually(async () => (await ask(0)).status === 200, 15_000, 'the grant at the gateway');
});
afterAll(async () => {
  events?.close();
  await second?.close();
  await platform?.close();
  await lb?.close();
});

const ask = (i: number) =>
  request(platform.gatewayUrl)
    .post(`/api/v1/query/${enc(CODE)}`)
    .set('authorization', `Bearer ${consumer.token}`)
    .send({ where: { idNumber: people[i % people.length].idNumber } });

/** `workers` callers asking one after another for `ms`; every answer must be 200. */
async function load(ms: number, workers = 8): Promise<number> {
  const end = Date.now() + ms;
  let n = 0;
  await Promise.all(
    Array.from({ length: workers }, async (_, w) => {
      while (Date.now() < end) {
        const res = await ask(w + n);
        expect(res.status).toBe(200);
        n++;
      }
    }),
  );
  return n;
}

test('a data-query replica that joins later gets a share of the interface queries within a few connection lifetimes', async () => {
  // Every connection of the gateway's pool open to the first replica.
  await load(1_000, 16);
  const first = lb.backends[0];
  expect(lb.batches.get(first)).toBeGreaterThan(0);

  const port = await freePort();
  const config = dataQuery.loadDataQueryConfig(
    {},
    {
      databaseUrl: platform.db.url,
      redisUrl: REDIS_URL,
      streamPrefix: platform.prefix,
      migrateOnStart: false,
      logLevel: 'silent',
      databasePoolSize: 4,
      jwksUrl: `${platform.gatewayUrl}/.well-known/jwks.json`,
      gatewayUrl: platform.gatewayUrl,
      manifestKeysDir: mkdtempSync(join(tmpdir(), 'gdx-manifest-keys-')),
    },
  );
  second = await dataQuery.buildApp({ config, logger: false });
  await second.listen({ host: '127.0.0.1', port });
  lb.backends.push(port);
  lb.batches.clear();

  const answered = await load(4_000);
  const toFirst = lb.batches.get(first) ?? 0;
  const toSecond = lb.batches.get(port) ?? 0;
  expect(answered).toBeGreaterThan(50);
  // Round-robin over replaced connections: about half; a fifth is the floor that noise allows.
  expect(toSecond / (toFirst + toSecond)).toBeGreaterThan(0.2);
}, 60_000);
