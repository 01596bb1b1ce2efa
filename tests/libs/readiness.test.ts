import Fastify from 'fastify';
import { healthPlugin, ReadinessFailure, ReadinessWarning, redisDurabilityProblems } from '@gdx/service-kit';

/** Issue 16 item 3: a Redis that can lose events is a warning on /health/ready, never silence and never an outage. */
test('a warning check leaves the service ready and says why; a failing one does not', async () => {
  const app = Fastify();
  await app.register(healthPlugin);
  app.readinessChecks.set('durable', async () => {
    throw new ReadinessWarning('appendonly is off');
  });
  await app.ready();
  const warned = await app.inject({ url: '/health/ready' });
  expect(warned.statusCode).toBe(200);
  expect(warned.json()).toEqual({ status: 'ok', checks: { durable: 'warning: appendonly is off' } });
  app.readinessChecks.set('down', async () => {
    throw new ReadinessFailure('no connection');
  });
  const failed = await app.inject({ url: '/health/ready' });
  expect(failed.statusCode).toBe(503);
  expect(failed.json()).toEqual({ status: 'unavailable', checks: { durable: 'warning: appendonly is off', down: 'failed: no connection' } });
  await app.close();
});

test('Redis settings that lose events are named', () => {
  expect(redisDurabilityProblems('noeviction', 'yes')).toEqual([]);
  expect(redisDurabilityProblems('allkeys-lru', 'yes')).toEqual(['maxmemory-policy is allkeys-lru, not noeviction (evicted stream entries are lost events)']);
  expect(redisDurabilityProblems('noeviction', 'no')).toEqual(['appendonly is off (a restart loses the event streams)']);
  expect(redisDurabilityProblems(undefined, undefined)).toHaveLength(2);
});
