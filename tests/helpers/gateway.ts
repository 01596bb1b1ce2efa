import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { mkdtempSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { buildApp, loadGatewayConfig, Unit } from '@gdx/gateway';
import type { App } from '@gdx/service-kit';
import type { Role } from '@gdx/auth';
import { referenceData } from '@gdx/codes';
import { hashPassword, Account } from '@gdx/gateway/testing';
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { REDIS_URL } from './redis';
import type { GatewayCall } from './trail';

export type GatewayOverrides = Parameters<typeof loadGatewayConfig>[1];

/** A loopback port nobody listens on (bound, then closed): an upstream that is certainly down, whatever runs on 8080–8084. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Where each watched gateway's answers go, by its root instance. */
const callSinks = new WeakMap<object, (call: GatewayCall) => void>();

/**
 * Builds the gateway with an onResponse hook on its root instance that reports every answer
 * to `onCall`. The hook must be on the root before any route or plugin is registered (an
 * encapsulated plugin copies its parent's hooks when it is registered), and buildApp gives
 * the instance back only afterwards, so it is added from Fastify's documented
 * `fastify.initialization` diagnostics channel, which publishes each new instance as it is
 * created. An instance created meanwhile by somebody else gets a hook that reports nowhere.
 */
async function buildWatched(build: () => Promise<App>, onCall: (call: GatewayCall) => void): Promise<App> {
  const created = new Set<object>();
  const watch = (message: unknown) => {
    const instance = (message as { fastify: FastifyInstance }).fastify;
    created.add(instance);
    instance.addHook('onResponse', (req: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => {
      const sink = callSinks.get(instance);
      if (sink) {
        const principal = (req as { principal?: { unitId?: unknown } | null }).principal;
        sink({
          requestId: String(req.id),
          method: req.method,
          path: req.url.split('?')[0],
          route: req.routeOptions.url,
          status: reply.statusCode,
          unitId: typeof principal?.unitId === 'string' ? principal.unitId : undefined,
          test: typeof expect === 'undefined' ? undefined : expect.getState().currentTestName,
        });
      }
      done();
    });
  };
  subscribe('fastify.initialization', watch);
  let app: App;
  try {
    app = await build();
  } finally {
    unsubscribe('fastify.initialization', watch);
  }
  if (!created.has(app)) throw new Error('the gateway’s Fastify instance was not seen at its creation: its calls cannot be watched');
  callSinks.set(app, onCall);
  return app;
}

/**
 * A gateway on its own database and Redis prefix. Upstreams the test does not name point at a
 * closed port, never at the defaults (8081–8084), where a running platform may answer.
 * `onCall` hears of every answer the gateway sends (startPlatform's trail check).
 */
export async function startGateway(databaseUrl: string, streamPrefix: string, overrides: GatewayOverrides = {}, onCall?: (call: GatewayCall) => void): Promise<App> {
  const keysDir = mkdtempSync(join(tmpdir(), 'gdx-keys-'));
  const down = `http://127.0.0.1:${await closedPort()}`;
  const upstreams = { catalogueUrl: down, requestApprovalUrl: down, dataQueryUrl: down, auditUrl: down };
  const config = loadGatewayConfig({}, { databaseUrl, redisUrl: REDIS_URL, streamPrefix, keysDir, migrateOnStart: false, logLevel: 'silent', databasePoolSize: 4, ...upstreams, ...overrides });
  const build = () => buildApp({ config, logger: false });
  const app = onCall ? await buildWatched(build, onCall) : await build();
  await app.ready();
  return app;
}

/** Inserts a reference unit straight into the gateway's tables. */
export async function addUnit(app: App, key: string): Promise<Unit> {
  const ref = referenceData().units.find((u) => u.key === key);
  if (!ref) throw new Error(`no reference unit ${key}`);
  const repo = app.db.getRepository(Unit);
  return (
    (await repo.findOneBy({ key })) ??
    repo.save(
      repo.create({ key, name: ref.name, creditCode: ref.creditCode, regionCode: ref.regionCode, kind: ref.kind as Unit['kind'], contactName: '张三', contactPhone: '0552-1234567', status: 'active' }),
    )
  );
}

export interface TestUser {
  id: string;
  unitId: string;
  username: string;
  password: string;
  token: string;
}

const PASSWORD = 'correct horse battery';

export async function addUser(app: App, unitKey: string, roles: Role[], username = `${unitKey.toLowerCase()}.${roles[0]}.${Math.random().toString(36).slice(2, 7)}`): Promise<TestUser> {
  const unit = await addUnit(app, unitKey);
  const repo = app.db.getRepository(Account);
  const account = await repo.save(
    repo.create({ unitId: unit.id, username, displayName: username, roles, passwordHash: await hashPassword(PASSWORD), failedLogins: 0, lockedUntil: null, status: 'active' }),
  );
  const res = await request(app.server).post('/api/v1/auth/login').send({ username, password: PASSWORD }).expect(200);
  return { id: account.id, unitId: unit.id, username, password: PASSWORD, token: res.body.access_token as string };
}
