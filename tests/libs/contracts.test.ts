import { Redis } from 'ioredis';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import {
  checkEvent,
  createEvent,
  decidable,
  decideGrant,
  EVENT_CATALOGUE,
  EVENT_DOMAINS,
  EVENT_TYPES,
  RowFilterSchema,
  untypedEvent,
  type DecidableGrant,
  type GrantStatus,
  type ServiceMode,
} from '@gdx/contracts';
import { uuidv7 } from '@gdx/database';
import { deadLetterKey, streamKey, type EventEnvelope } from '@gdx/events';
import type { App } from '@gdx/service-kit';
import { buildApp, loadCatalogueConfig } from '@gdx/catalogue';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { deleteKeys, REDIS_URL, testPrefix } from '../helpers/redis';
import { eventually } from '../helpers/wait';

const system = { kind: 'system' as const };

describe('the event catalogue', () => {
  test.each(EVENT_TYPES)('%s has a version, a description and a data schema TypeBox compiles', (type) => {
    const entry = EVENT_CATALOGUE[type];
    expect(Number.isInteger(entry.version) && entry.version >= 1).toBe(true);
    expect(entry.description.trim().length).toBeGreaterThan(10);
    expect(entry.data.type).toBe('object');
    expect(() => TypeCompiler.Compile(entry.data, [RowFilterSchema])).not.toThrow();
  });

  test('every type travels on a domain stream the catalogue names', () => {
    expect([...EVENT_DOMAINS].sort()).toEqual([...new Set(EVENT_TYPES.map((t) => t.split('.')[0]))].sort());
    expect(EVENT_DOMAINS).toEqual(expect.arrayContaining(['auth', 'unit', 'account', 'client', 'resource', 'request', 'grant', 'query', 'data']));
  });

  test('createEvent stamps the declared version; untypedEvent stamps none', () => {
    expect(createEvent('client.revoked', { actor: system, subject: 'c', data: { clientId: 'c' } })).toMatchObject({ type: 'client.revoked', version: 1, data: { clientId: 'c' } });
    expect(untypedEvent('test.happened', { actor: system, subject: 's', data: {} })).not.toHaveProperty('version');
  });
});

describe('checkEvent', () => {
  const revoked = () => createEvent('client.revoked', { actor: system, subject: 'c-1', data: { clientId: 'c-1' } });

  test('accepts a declared event, with or without its version, and data with fields it does not know', () => {
    expect(checkEvent(revoked())).toBeUndefined();
    const { version: _version, ...unversioned } = revoked();
    expect(checkEvent(unversioned)).toBeUndefined();
    expect(checkEvent(untypedEvent('client.revoked', { actor: system, subject: 'c-1', data: { clientId: 'c-1', note: 'added later' } }))).toBeUndefined();
  });

  test('rejects what is not an envelope', () => {
    expect(checkEvent({ type: 'client.revoked' })).toBe('not an event envelope');
    expect(checkEvent(null)).toBe('not an event envelope');
  });

  test('rejects an undeclared type', () => {
    expect(checkEvent(untypedEvent('grant.bogus', { actor: system, subject: 'g', data: {} }))).toMatch(/^undeclared event type "grant\.bogus"/);
  });

  test('rejects another version than the declared one', () => {
    expect(checkEvent({ ...revoked(), version: 2 })).toBe('client.revoked version 2 is not the declared version 1');
  });

  test('rejects data of the wrong shape, naming the field', () => {
    const wrongType = checkEvent(untypedEvent('client.revoked', { actor: system, subject: 'c', data: { clientId: 1 } }));
    expect(wrongType).toMatch(/^client\.revoked data\.clientId: /);
    const missing = checkEvent(untypedEvent('auth.locked_out', { actor: system, subject: 'u', data: { username: 'u', ip: '10.0.0.1', requestId: 'r' } }));
    expect(missing).toMatch(/^auth\.locked_out data\.minutes: /);
    const notInEnum = checkEvent(untypedEvent('auth.login_failed', { actor: system, subject: 'u', data: { username: 'u', reason: 'bored', ip: '10.0.0.1', requestId: 'r' } }));
    expect(notInEnum).toMatch(/^auth\.login_failed data\.reason: /);
  });
});

describe('a consumer registered through the service kit', () => {
  let db: TestDatabase;
  let app: App;
  let redis: Redis;
  const prefix = testPrefix();
  const group = 'contracts-check';
  const handled: EventEnvelope[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    redis = new Redis(REDIS_URL);
    // Any service app will do: the catalogue's, with a consumer of its own added for the test.
    const nowhere = 'http://127.0.0.1:9';
    const config = loadCatalogueConfig(
      {},
      {
        databaseUrl: db.url,
        redisUrl: REDIS_URL,
        streamPrefix: prefix,
        migrateOnStart: false,
        logLevel: 'silent',
        databasePoolSize: 2,
        jwksUrl: `${nowhere}/.well-known/jwks.json`,
        gatewayUrl: nowhere,
      },
    );
    app = await buildApp({ config, logger: false, keyFor: async () => undefined });
    app.addConsumer({ domains: ['client'], group, blockMs: 100, claimIdleMs: 200, handleBatch: async (events) => void handled.push(...events) });
    await app.ready();
  });
  afterAll(async () => {
    await app?.close();
    redis?.disconnect();
    await db?.drop();
    await deleteKeys(prefix);
  });

  test('dead-letters an invalid event with the reason, counts it, and handles the valid event that follows', async () => {
    const invalid = untypedEvent('client.revoked', { actor: system, subject: 'c-1', data: { clientId: 1 } });
    const valid = createEvent('client.revoked', { actor: system, subject: 'c-2', data: { clientId: 'c-2' } });
    for (const e of [invalid, valid]) await redis.xadd(streamKey(prefix, 'client'), '*', 'event', JSON.stringify(e));

    await eventually(async () => handled.some((e) => e.id === valid.id), 10_000, 'the valid event handled');
    expect(handled.map((e) => e.id)).toEqual([valid.id]);

    const letters = (await redis.xrange(deadLetterKey(prefix), '-', '+')) as [string, string[]][];
    expect(letters).toHaveLength(1);
    const f = letters[0][1];
    const field = (name: string) => f[f.indexOf(name) + 1];
    expect(field('group')).toBe(group);
    expect(field('reason')).toMatch(/^invalid event: client\.revoked data\.clientId: /);
    expect(field('deliveries')).toBe('1');
    expect(JSON.parse(field('event')).id).toBe(invalid.id);
    // Dead-lettered at once, not retried: nothing is left pending.
    expect(((await redis.xpending(streamKey(prefix, 'client'), group)) as [number])[0]).toBe(0);

    const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(new RegExp(`gdx_events_dead_lettered_total\\{[^}]*group="${group}"[^}]*cause="invalid"[^}]*\\} 1\\b`));
  });
});

describe('decideGrant', () => {
  const now = Date.parse('2025-06-01T12:00:00Z');
  const day = 86_400_000;
  let seq = 0;
  /** Grants issued in the order they are made: a later one has the higher (UUIDv7) id. */
  function grant(over: Partial<Omit<DecidableGrant, 'items'>> & { items?: string[] } = {}): DecidableGrant {
    seq++;
    return { id: uuidv7(now - 1_000_000 + seq), status: 'active', modes: ['interface'], validFromMs: now - day, validToMs: now + day, ...over, items: new Set(over.items ?? ['name']) };
  }
  const decide = (grants: DecidableGrant[], items?: string[], mode: ServiceMode = 'interface') => decideGrant(grants, mode, items, now);
  const code = (d: ReturnType<typeof decide>) => (d.ok ? 'OK' : d.code);

  test('no grant: NO_GRANT', () => {
    expect(decide([])).toMatchObject({ ok: false, code: 'NO_GRANT' });
  });

  test('the checks come in order: mode, state, validity window, items', () => {
    const everythingWrong = { status: 'suspended' as GrantStatus, validFromMs: now - 2 * day, validToMs: now - day, items: ['other'] };
    expect(code(decide([grant({ ...everythingWrong, modes: ['data-call'] })], ['name']))).toBe('MODE_NOT_GRANTED');
    expect(code(decide([grant(everythingWrong)], ['name']))).toBe('GRANT_NOT_ACTIVE');
    expect(code(decide([grant({ ...everythingWrong, status: 'active' })], ['name']))).toBe('GRANT_EXPIRED');
    expect(code(decide([grant({ ...everythingWrong, status: 'active', validFromMs: now + day, validToMs: now + 2 * day })], ['name']))).toBe('GRANT_NOT_YET_VALID');
    const missing = decide([grant({ items: ['other'] })], ['other', 'name']);
    expect(missing).toMatchObject({ ok: false, code: 'ITEM_NOT_GRANTED', item: 'name' });
    expect(code(decide([grant({ items: ['other', 'name'] })], ['other', 'name']))).toBe('OK');
  });

  test('of two grants, the one covering the items asked wins; asked nothing, the newest; whatever order they are held in', () => {
    for (const bIsNewer of [true, false]) {
      seq = 0;
      const [first, second] = [grant(), grant()];
      const a = { ...(bIsNewer ? first : second), items: new Set(['name']) };
      const b = { ...(bIsNewer ? second : first), items: new Set(['name', 'address']) };
      const newest = bIsNewer ? b : a;
      for (const held of [
        [a, b],
        [b, a],
      ]) {
        expect(decide(held, ['address'])).toEqual({ ok: true, grant: b });
        expect(decide(held, ['name', 'address'])).toEqual({ ok: true, grant: b });
        expect(decide(held, ['name'])).toEqual({ ok: true, grant: newest });
        expect(decide(held)).toEqual({ ok: true, grant: newest });
        expect(decide(held, [])).toEqual({ ok: true, grant: newest });
        expect(decide(held, ['phone'])).toMatchObject({ ok: false, code: 'ITEM_NOT_GRANTED', item: 'phone', grant: newest });
      }
    }
  });

  test('a superseded or suspended grant is not active: GRANT_NOT_ACTIVE; an expired state: GRANT_EXPIRED', () => {
    for (const status of ['superseded', 'suspended', 'revoked'] as const) {
      expect(decide([grant({ status })])).toMatchObject({ ok: false, code: 'GRANT_NOT_ACTIVE' });
    }
    expect(decide([grant({ status: 'expired' })])).toMatchObject({ ok: false, code: 'GRANT_EXPIRED' });
  });

  test('a superseded grant does not shadow the active one that replaced it', () => {
    const old = grant({ status: 'superseded', items: ['name', 'address'] });
    const current = grant({ items: ['name'] });
    expect(decide([old, current], ['name'])).toEqual({ ok: true, grant: current });
    expect(decide([current, old], ['address'])).toMatchObject({ ok: false, code: 'ITEM_NOT_GRANTED', grant: current });
  });

  test('the validity window: from its start (inclusive) to its end (exclusive)', () => {
    expect(decide([grant({ validFromMs: now - 2 * day, validToMs: now - 1 })])).toMatchObject({ ok: false, code: 'GRANT_EXPIRED' });
    expect(decide([grant({ validFromMs: now - 2 * day, validToMs: now })])).toMatchObject({ ok: false, code: 'GRANT_EXPIRED' });
    expect(decide([grant({ validFromMs: now + 1, validToMs: now + day })])).toMatchObject({ ok: false, code: 'GRANT_NOT_YET_VALID' });
    expect(code(decide([grant({ validFromMs: now, validToMs: now + day })]))).toBe('OK');
  });

  test('a mode not granted names the newest grant; another mode of the same grants may be fine', () => {
    const g = grant({ modes: ['interface', 'data-call'] });
    expect(code(decide([g], undefined, 'data-call'))).toBe('OK');
    expect(decide([g], undefined, 'customization')).toMatchObject({ ok: false, code: 'MODE_NOT_GRANTED', grant: g });
  });

  test('decidable prepares a grant view once: items as a set, the window in milliseconds', () => {
    const d = decidable({ id: uuidv7(), status: 'active', modes: ['interface'], items: ['name', 'idNumber'], validFrom: '2025-01-01T00:00:00.000Z', validTo: '2026-01-01T00:00:00.000Z' });
    expect(d.items).toEqual(new Set(['name', 'idNumber']));
    expect([d.validFromMs, d.validToMs]).toEqual([Date.parse('2025-01-01T00:00:00Z'), Date.parse('2026-01-01T00:00:00Z')]);
    expect(code(decide([d], ['idNumber']))).toBe('OK');
  });
});
