import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import type { Redis } from 'ioredis';
import type { App } from '@gdx/service-kit';
import { streamKey, type EventEnvelope } from '@gdx/events';
import { verifyExportFile } from '@gdx/audit';
import { canonicalize, ChainService, escapeText, TrailVerifier, unescapeText, type AuditRecord } from '@gdx/audit/testing';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { deleteKeys, testPrefix } from '../helpers/redis';
import { auditorToken, newRedis, publish, queryEvent, startAudit, waitFor } from './audit-test-kit';

/**
 * Issue 11 item 1: an event holding what PostgreSQL cannot store (NUL, a lone
 * surrogate) is kept all the same, escaped as documented on AuditRecord.originalSha256,
 * and a dead-lettered audit event is an alarm (metric and readiness).
 */

/** The documented way back, written here from the description rather than taken from the service. */
function unescapeDocumented(value: unknown): unknown {
  const f = (s: string) => s.replace(/\\(\\|u[0-9a-f]{4})/g, (_, e: string) => (e === '\\' ? '\\' : String.fromCharCode(parseInt(e.slice(1), 16))));
  if (typeof value === 'string') return f(value);
  if (Array.isArray(value)) return value.map(unescapeDocumented);
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [f(k), unescapeDocumented(v)]));
  return value;
}

// eslint-disable-next-line no-control-regex -- NUL is exactly what this looks for
const UNSAFE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Every string in a value, member names included. */
function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (typeof value === 'object' && value !== null) return Object.entries(value).flatMap(([k, v]) => [k, ...strings(v)]);
  return [];
}

/** The record's content as the event had it, and whether its originalSha256 says so. */
function original(record: Record<string, unknown>): { content: Record<string, unknown>; verifies: boolean } {
  const { chain: _c, position: _p, prevHash: _ph, hash: _h, originalSha256, ...stored } = record;
  const content = unescapeDocumented(stored) as Record<string, unknown>;
  const sha = createHash('sha256')
    .update('gdx-audit-original/1\n' + canonicalize(content))
    .digest('hex');
  return { content, verifies: sha === originalSha256 };
}

describe('audit trail: events PostgreSQL cannot hold as they are', () => {
  let db: TestDatabase;
  let prefix: string;
  let redis: Redis;
  let app: App;
  const auth = () => ({ Authorization: `Bearer ${auditorToken()}` });

  const denied = (items: string[], extra: Record<string, unknown> = {}) => queryEvent(randomUUID(), randomUUID(), { items, result: 'denied', rowCount: 0, requestId: randomUUID(), ...extra });
  const cases: Record<string, EventEnvelope> = {
    nul: denied(['idNumber', 'x\u0000']),
    highSurrogate: denied(['idNumber', 'x\ud800'], { note: 'a\ud83dz', pair: '😀' }),
    lowSurrogate: denied(['\udc00y'], { 'key\udc00': 'v', nested: { list: ['\udfff', 1, null] } }),
    nulInCode: { ...denied(['idNumber'], { route: '/api/v1/query/R%00', resourceCode: 'R\u0000' }), subject: 'R\u0000' },
    // A backslash next to an escape-like text: the escaping must stay reversible.
    backslashes: denied(['\\u0000', '\u0000\\'], { note: 'C:\\u0000\\\\ and \u0000', 'k\u0000': '\\' }),
  };
  const controls = denied(['\u0001', 'tab\there'], { note: '\u0001\u0007\b\f\u000b\u001b\u007f\u0085\u009f' });

  const byRequestId = async (e: EventEnvelope) => {
    const requestId = (e.data as { requestId: string }).requestId;
    return waitFor(`the record of ${requestId}`, async () => {
      const r = await request(app.server).get('/api/v1/audit/records').query({ requestId }).set(auth());
      return r.status === 200 && r.body.items.length === 1 ? (r.body.items[0] as Record<string, unknown>) : undefined;
    });
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    prefix = testPrefix();
    redis = newRedis();
    app = await startAudit(db.url, prefix, { auditChains: 2 });
    await publish(redis, prefix, [...Object.values(cases), controls]);
  });

  afterAll(async () => {
    await app.close();
    redis.disconnect();
    await db.drop();
    await deleteKeys(prefix);
  });

  it('escapes and unescapes every string reversibly', () => {
    for (const s of ['x\u0000', '\ud800', '\udc00', 'a\ud83dz', '😀', '\\u0000', '\\\\u0000\u0000', 'plain', '\u0001\t\\', '\udfff\ud800']) {
      expect(unescapeText(escapeText(s))).toBe(s);
      // eslint-disable-next-line no-control-regex -- NUL is exactly what this looks for
      expect(escapeText(s)).not.toMatch(/\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/);
    }
    expect(escapeText('x\u0000\ud800\\')).toBe('x\\u0000\\ud800\\\\');
  });

  it('stores every such event, findable by its request id, with the original recoverable and verifiable', async () => {
    for (const [name, e] of Object.entries(cases)) {
      const record = await byRequestId(e);
      expect({ name, originalSha256: record.originalSha256 }).toEqual({ name, originalSha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
      // What is stored holds nothing PostgreSQL refuses.
      expect(strings(record).filter((t) => UNSAFE.test(t))).toEqual([]);
      const { content, verifies } = original(record);
      expect({ name, verifies }).toEqual({ name, verifies: true });
      expect(content).toMatchObject({ id: e.id, type: e.type, subject: e.subject, items: (e.data as { items: string[] }).items, data: e.data, result: 'denied' });
    }
    const nulInCode = original(await byRequestId(cases.nulInCode)).content;
    expect(nulInCode).toMatchObject({ resourceCode: 'R\u0000', route: '/api/v1/query/R%00' });
  });

  it('keeps control characters as they are: such records take the ordinary path', async () => {
    const record = await byRequestId(controls);
    expect(record.originalSha256).toBeUndefined();
    expect(record).toMatchObject({ items: ['\u0001', 'tab\there'], data: controls.data });
  });

  it('verifies: the API, a checkpoint, and an export checked offline', async () => {
    const all = Object.keys(cases).length + 1;
    await request(app.server).post('/api/v1/audit/checkpoints').set(auth()).expect(201);
    const report = await request(app.server).get('/api/v1/audit/verify').set(auth()).expect(200);
    expect(report.body).toMatchObject({ ok: true, records: all, checkpoints: 1, firstProblem: null });

    const res = await request(app.server)
      .get('/api/v1/audit/export')
      .set(auth())
      .buffer(true)
      .parse((r, cb) => {
        let body = '';
        r.setEncoding('utf8');
        r.on('data', (c: string) => (body += c));
        r.on('end', () => cb(null, body));
      })
      .expect(200);
    const lines = (res.body as string)
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const escaped = lines.filter((l) => l.kind === 'record' && l.originalSha256);
    expect(escaped).toHaveLength(Object.keys(cases).length);
    for (const l of escaped) {
      const { kind: _k, ...record } = l;
      expect(original(record).verifies).toBe(true);
    }
    const file = join(mkdtempSync(join(tmpdir(), 'gdx-audit-escaped-')), 'export.ndjson');
    writeFileSync(file, res.body as string);
    expect(await verifyExportFile(file)).toMatchObject({ ok: true, records: all, checkpoints: 1, firstProblem: null });
  });

  it('reports an escaped record whose content no longer unescapes to its original, even with its hash recomputed', async () => {
    const stored = (await request(app.server).get(`/api/v1/audit/records/${cases.nul.id}`).set(auth()).expect(200)).body as AuditRecord;
    const chain = new ChainService();
    const alone = (r: AuditRecord) => {
      const placed = { ...r, chain: 0, position: 1, prevHash: '0'.repeat(64) };
      return { ...placed, hash: chain.hashOf(placed) };
    };
    const check = (r: AuditRecord) => {
      const v = new TrailVerifier([]);
      v.record(r);
      return v.finish();
    };
    expect(check(alone(stored))).toMatchObject({ ok: true, problems: [] });
    const forged = alone({ ...stored, items: ['idNumber', 'x\\u0001'] });
    expect(check(forged).firstProblem).toMatchObject({ code: 'original-mismatch', recordId: cases.nul.id });
  });
});

describe('audit trail: a dead-lettered audit event is an alarm', () => {
  let db: TestDatabase;
  let prefix: string;
  let redis: Redis;
  let app: App;

  beforeAll(async () => {
    db = await createTestDatabase();
    prefix = testPrefix();
    redis = newRedis();
    app = await startAudit(db.url, prefix);
  });

  afterAll(async () => {
    await app.close();
    redis.disconnect();
    await db.drop();
    await deleteKeys(prefix);
  });

  it('shows on /metrics and fails readiness with the count, until an operator resets it', async () => {
    const ready = await request(app.server).get('/health/ready').expect(200);
    expect(ready.body.checks).toMatchObject({ 'audit-dead-letters': 'ok' });
    expect((await request(app.server).get('/metrics').expect(200)).text).toMatch(/^audit_events_dead_lettered\{service="audit"\} 0$/m);

    // Not an event at all: the audit group can only dead-letter it.
    await redis.xadd(streamKey(prefix, 'query'), '*', 'junk', 'not an event');
    const notReady = await waitFor('readiness to fail', async () => {
      const r = await request(app.server).get('/health/ready');
      return r.status === 503 ? r : undefined;
    });
    expect(notReady.body).toMatchObject({ status: 'unavailable', checks: { 'audit-dead-letters': 'failed: 1 audit event dead-lettered', postgres: 'ok', redis: 'ok' } });
    const metrics = (await request(app.server).get('/metrics').expect(200)).text;
    expect(metrics).toMatch(/^audit_events_dead_lettered\{service="audit"\} 1$/m);
    expect(metrics).toMatch(/^gdx_events_dead_lettered_total\{[^}]*group="audit"[^}]*cause="malformed"[^}]*\} 1$/m);

    await redis.hdel(`${prefix}events:dead-lettered`, 'audit');
    await request(app.server).get('/health/ready').expect(200);
  });
});
