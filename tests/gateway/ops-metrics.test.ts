import request from 'supertest';
import { createEvent } from '@gdx/contracts';
import { startPlatform, type TestPlatform } from '../helpers/platform';
import { eventually } from '../helpers/wait';

/**
 * Issue 16 (11): the figures the alert rules read (k8s/components/monitoring): the outbox
 * backlog and its oldest row's age (every service), and how current the gateway's grant cache is.
 */
let platform: TestPlatform;
beforeAll(async () => {
  platform = await startPlatform(['request-approval']);
});
afterAll(async () => {
  await platform?.close();
});

const metric = async (name: string): Promise<number> => {
  const text = (await request(platform.gatewayUrl).get('/metrics').expect(200)).text;
  // Every sample carries the service's label: `name{service="gateway"} 3`.
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
  if (!line) throw new Error(`no ${name} in /metrics`);
  return Number(line.slice(line.lastIndexOf(' ') + 1));
};

test('the grant cache age is a few seconds at most once the snapshot is in', async () => {
  const age = await eventually(
    async () => {
      const a = await metric('gdx_gateway_grant_cache_age_seconds');
      return a >= 0 ? a : undefined;
    },
    15_000,
    'the grant snapshot',
  );
  expect(age).toBeLessThan(5);
});

test('the outbox backlog counts rows the relay has not published, and drops to 0 once it has', async () => {
  const app = platform.gateway;
  await app.relay.stop();
  try {
    await app.outboxWriter.publish(
      createEvent('call.completed', {
        actor: { kind: 'anonymous' },
        subject: '/api/v1/x',
        data: { method: 'GET', route: '/api/v1/x', path: '/api/v1/x', status: 200, result: 'allowed', requestId: 'ops-metrics', sourceAddress: '127.0.0.1', latencyMs: 1 },
      }),
    );
    expect(await metric('gdx_outbox_pending')).toBeGreaterThanOrEqual(1);
    expect(await metric('gdx_outbox_oldest_pending_seconds')).toBeGreaterThanOrEqual(0);
  } finally {
    app.relay.start();
  }
  await app.relay.drain();
  expect(await metric('gdx_outbox_pending')).toBe(0);
  expect(await metric('gdx_outbox_oldest_pending_seconds')).toBe(0);
});
