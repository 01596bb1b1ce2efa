import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import request from 'supertest';
import { loadConfig, CommonConfig } from '@gdx/config';
import { createRedis, redisOptions } from '@gdx/service-kit';
import { closedPort } from '../helpers/gateway';
import { freePort, startPlatform } from '../helpers/platform';
import { REDIS_URL, testPrefix, deleteKeys } from '../helpers/redis';
import { eventually } from '../helpers/wait';

/**
 * Issue 16 item 3: Redis through Sentinel. A real Sentinel (redis-server --sentinel) monitors the
 * test Redis as the master of a group; services given only the Sentinel's address (their redisUrl
 * points nowhere) find the master through it and work: ready, events flowing.
 */
const GROUP = `gdx-${Math.random().toString(36).slice(2, 8)}`;
let sentinel: ChildProcess;
let sentinels: string;
const prefix = testPrefix();

beforeAll(async () => {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'gdx-sentinel-'));
  const master = new URL(REDIS_URL);
  // Sentinel rewrites its configuration file: a fresh one of its own.
  writeFileSync(join(dir, 'sentinel.conf'), [`port ${port}`, 'bind 127.0.0.1', `dir ${dir}`, `sentinel monitor ${GROUP} ${master.hostname} ${master.port || 6379} 1`, ''].join('\n'));
  sentinel = spawn('redis-server', [join(dir, 'sentinel.conf'), '--sentinel'], { stdio: 'ignore' });
  sentinels = `127.0.0.1:${port}`;
  const probe = new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => 100 });
  await eventually(
    async () => {
      const addr = (await probe.call('SENTINEL', 'get-master-addr-by-name', GROUP).catch(() => null)) as string[] | null;
      return addr?.length === 2;
    },
    15_000,
    'the sentinel to know the master',
  );
  probe.disconnect();
});
afterAll(async () => {
  sentinel?.kill('SIGTERM');
  await deleteKeys(prefix);
});

test('configuration: Sentinel addresses are checked at boot', () => {
  expect(loadConfig(CommonConfig, { REDIS_SENTINELS: '10.0.0.1:26379,sentinel-b:26379', REDIS_SENTINEL_NAME: 'gdx' })).toMatchObject({
    redisSentinels: '10.0.0.1:26379,sentinel-b:26379',
    redisSentinelName: 'gdx',
  });
  expect(() => loadConfig(CommonConfig, { REDIS_SENTINELS: 'sentinel-a' })).toThrow(/redisSentinels|REDIS_SENTINELS/);
});

test('a client given the Sentinel finds the master through it, though its URL points nowhere', async () => {
  const client = createRedis({ redisUrl: `redis://127.0.0.1:${await closedPort()}`, redisSentinels: sentinels, redisSentinelName: GROUP }, redisOptions());
  const direct = new Redis(REDIS_URL);
  try {
    await client.connect();
    await client.set(`${prefix}sentinel-probe`, 'yes');
    expect(await direct.get(`${prefix}sentinel-probe`)).toBe('yes');
  } finally {
    client.disconnect();
    direct.disconnect();
  }
});

test('the platform runs through the Sentinel: ready, and its calls reach the record', async () => {
  const nowhere = `redis://127.0.0.1:${await closedPort()}`;
  const sentinel = { redisUrl: nowhere, redisSentinels: sentinels, redisSentinelName: GROUP };
  const platform = await startPlatform(['catalogue'], { gateway: sentinel, service: sentinel });
  try {
    const address = platform.services.catalogue!.server.address() as { port: number };
    await eventually(async () => (await request(`http://127.0.0.1:${address.port}`).get('/health/ready')).status === 200, 15_000, 'catalogue ready');
    expect((await request(platform.gatewayUrl).get('/health/ready')).status).toBe(200);
    await request(platform.gatewayUrl).get('/api/v1/catalogue/resources').expect(401);
  } finally {
    // The trail check reads the streams on the real Redis the Sentinel names.
    await platform.close();
  }
});
