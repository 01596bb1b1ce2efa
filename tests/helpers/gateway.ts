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
import { REDIS_URL } from './redis';

export type GatewayOverrides = Parameters<typeof loadGatewayConfig>[1];

/** A loopback port nobody listens on (bound, then closed): an upstream that is certainly down, whatever runs on 8080–8084. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * A gateway on its own database and Redis prefix. Upstreams the test does not name point at a
 * closed port, never at the defaults (8081–8084), where a running platform may answer.
 */
export async function startGateway(databaseUrl: string, streamPrefix: string, overrides: GatewayOverrides = {}): Promise<App> {
  const keysDir = mkdtempSync(join(tmpdir(), 'gdx-keys-'));
  const down = `http://127.0.0.1:${await closedPort()}`;
  const upstreams = { catalogueUrl: down, requestApprovalUrl: down, dataQueryUrl: down, auditUrl: down };
  const config = loadGatewayConfig({}, { databaseUrl, redisUrl: REDIS_URL, streamPrefix, keysDir, migrateOnStart: false, logLevel: 'silent', databasePoolSize: 4, ...upstreams, ...overrides });
  const app = await buildApp({ config, logger: false });
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
