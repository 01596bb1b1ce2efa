import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSigner } from 'fast-jwt';
import { Redis } from 'ioredis';
import { Client } from 'pg';
import type { Role } from '@gdx/auth';
import { streamKey, type Actor, type EventEnvelope } from '@gdx/events';
import { untypedEvent } from '@gdx/contracts';
import type { App } from '@gdx/service-kit';
import { buildApp, loadAuditConfig } from '@gdx/audit';
import { REDIS_URL } from '../helpers/redis';
import { eventually } from '../helpers/wait';

/**
 * For tests that drive the audit service on its own (no gateway): tokens signed by
 * a local key, apps built against a test database and Redis prefix, events put
 * straight on the streams as the relay would.
 */
const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const KID = 'audit-test';
const signer = createSigner({ key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), algorithm: 'EdDSA', kid: KID, expiresIn: 3_600_000 });
const publicPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();

export function tokenFor(roles: Role[], unitId: string = randomUUID()): string {
  return signer({ iss: 'gdx', aud: 'gdx-api', sub: randomUUID(), typ: 'account', unit: unitId, roles, jti: randomUUID() });
}

export const auditorToken = () => tokenFor(['office_auditor']);

export function auditKeysDir(): string {
  return mkdtempSync(join(tmpdir(), 'gdx-audit-keys-'));
}

export async function startAudit(databaseUrl: string, prefix: string, overrides: Record<string, unknown> = {}): Promise<App> {
  const config = loadAuditConfig(
    {},
    {
      databaseUrl,
      redisUrl: REDIS_URL,
      streamPrefix: prefix,
      migrateOnStart: false,
      logLevel: 'silent',
      databasePoolSize: 4,
      auditKeysDir: auditKeysDir(),
      claimIdleMs: 300,
      checkpointIntervalMs: 0,
      ...overrides,
    },
  );
  const app = await buildApp({ config, logger: false, keyFor: async (kid) => (kid === KID ? publicPem : undefined) });
  await app.ready();
  return app;
}

export function queryEvent(unitId: string, ownerUnitId: string, extra: Record<string, unknown> = {}, occurredAt?: Date): EventEnvelope {
  const actor: Actor = { kind: 'client', unitId, clientId: randomUUID() };
  // Loose data (a route, `ip`), as the trail must take whatever reaches it.
  return untypedEvent('query.executed', {
    actor,
    subject: 'R-1/0001',
    occurredAt,
    data: {
      resourceCode: 'R-1/0001',
      grantId: randomUUID(),
      route: '/api/v1/query/R-1%2F0001',
      mode: 'interface',
      items: ['name', 'idNumber'],
      rowCount: 1,
      result: 'allowed',
      latencyMs: 2.5,
      requestId: randomUUID(),
      ip: '10.0.0.7',
      providerUnitId: ownerUnitId,
      ...extra,
    },
  });
}

export function someEvents(n: number, unitId = randomUUID(), ownerUnitId = randomUUID()): EventEnvelope[] {
  const types = ['query.executed', 'grant.issued', 'resource.published', 'auth.login_failed', 'request.filed', 'data.batch_accepted'];
  return Array.from({ length: n }, (_, i) => {
    const type = types[i % types.length];
    if (type === 'query.executed') return queryEvent(unitId, ownerUnitId, { n: i });
    return untypedEvent(type, { actor: { kind: 'account', unitId, accountId: randomUUID() }, subject: `s-${i}`, data: { n: i, providerUnitId: ownerUnitId, note: '数据共享 ✓' } });
  });
}

/** As the outbox relay does: one XADD per event on its domain's stream. */
export async function publish(redis: Redis, prefix: string, events: EventEnvelope[]): Promise<void> {
  const p = redis.pipeline();
  for (const e of events) p.xadd(streamKey(prefix, e.type.split('.')[0]), '*', 'event', JSON.stringify(e));
  await p.exec();
}

export function newRedis(): Redis {
  return new Redis(REDIS_URL);
}

export function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> {
  return eventually(probe, timeoutMs, what);
}

/** A superuser connection to a test database, search_path on the audit schema. */
export async function sql(databaseUrl: string): Promise<Client> {
  const c = new Client({ connectionString: databaseUrl, options: '-c search_path=audit,public' });
  await c.connect();
  return c;
}

export async function recordCount(c: Client): Promise<number> {
  const { rows } = await c.query('SELECT count(*)::int AS n FROM audit_record');
  return rows[0].n as number;
}
