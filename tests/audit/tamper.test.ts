import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import request from 'supertest';
import type { Client } from 'pg';
import type { Redis } from 'ioredis';
import type { App } from '@gdx/service-kit';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { deleteKeys, testPrefix } from '../helpers/redis';
import { verifyExportFile, type VerificationReport } from '@gdx/audit';
import { auditKeysDir, auditorToken, newRedis, publish, recordCount, someEvents, sql, startAudit, tokenFor, waitFor } from './audit-test-kit';

const run = promisify(execFile);
const CLI = join(__dirname, '..', '..', 'services', 'audit', 'dist', 'verify-cli.js');

describe('audit trail: tamper evidence and an append-only database', () => {
  let db: TestDatabase;
  let prefix: string;
  let redis: Redis;
  let pg: Client;
  let app: App;
  let keysDir: string;
  let chain: number;
  let length: number;
  const N = 120;

  const verify = async () => (await request(app.server).get('/api/v1/audit/verify').auth(auditorToken(), { type: 'bearer' }).expect(200)).body;

  /** Tampers as the superuser with user triggers off, checks, then puts the rows back exactly. */
  async function tampered(positions: number[], change: string, params: unknown[] = []): Promise<VerificationReport> {
    await pg.query('SET session_replication_role = replica');
    await pg.query('CREATE TEMP TABLE saved AS SELECT * FROM audit_record WHERE chain = $1 AND position = ANY($2::bigint[])', [chain, positions]);
    try {
      await pg.query(change, params);
      return await verify();
    } finally {
      await pg.query('DELETE FROM audit_record WHERE chain = $1 AND position = ANY($2::bigint[])', [chain, positions]);
      await pg.query('INSERT INTO audit_record SELECT * FROM saved');
      await pg.query('DROP TABLE saved');
      await pg.query('SET session_replication_role = origin');
    }
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    prefix = testPrefix();
    redis = newRedis();
    pg = await sql(db.url);
    keysDir = auditKeysDir();
    app = await startAudit(db.url, prefix, { auditChains: 2, auditBatchSize: 10, auditKeysDir: keysDir });
    await publish(redis, prefix, someEvents(N));
    await waitFor('records', async () => (await recordCount(pg)) === N);
    const { rows } = await pg.query('SELECT chain, max(position)::int AS head FROM audit_record GROUP BY chain ORDER BY 2 DESC LIMIT 1');
    ({ chain, head: length } = rows[0] as { chain: number; head: number });
    const cp = await request(app.server).post('/api/v1/audit/checkpoints').auth(auditorToken(), { type: 'bearer' }).expect(201);
    expect(cp.body).toMatchObject({ seq: 1, size: N, previousHash: '0'.repeat(64) });
  });

  afterAll(async () => {
    await app.close();
    await pg.end();
    redis.disconnect();
    await db.drop();
    await deleteKeys(prefix);
  });

  it('verifies an untouched trail, and signs checkpoints that list every chain head', async () => {
    expect(length).toBeGreaterThan(20);
    const report = await verify();
    expect(report).toMatchObject({ ok: true, records: N, checkpoints: 1, firstProblem: null, problems: [] });
    const list = await request(app.server).get('/api/v1/audit/checkpoints').auth(auditorToken(), { type: 'bearer' }).expect(200);
    expect(list.body.items[0].heads).toEqual(report.chains.map((c: { chain: number; headPosition: number; headHash: string }) => ({ chain: c.chain, position: c.headPosition, hash: c.headHash })));
  });

  it('names the position of a record whose data was changed', async () => {
    const report = await tampered([10], `UPDATE audit_record SET data = jsonb_set(data, '{n}', '999') WHERE chain = $1 AND position = 10`, [chain]);
    expect(report.ok).toBe(false);
    expect(report.firstProblem).toMatchObject({ code: 'content-changed', chain, position: 10 });
    expect(report.firstProblem?.recordId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('names the position of a record whose searchable column was changed', async () => {
    const report = await tampered([11], `UPDATE audit_record SET result = 'denied', actor_unit_id = 'someone-else' WHERE chain = $1 AND position = 11`, [chain]);
    expect(report.firstProblem).toMatchObject({ code: 'content-changed', chain, position: 11 });
  });

  it('names the position of a deleted record', async () => {
    const report = await tampered([20], 'DELETE FROM audit_record WHERE chain = $1 AND position = 20', [chain]);
    expect(report.firstProblem).toMatchObject({ code: 'missing-records', chain, position: 20 });
  });

  it('names the position where a record was slipped in', async () => {
    const forged = '0190f1e2-0000-7000-8000-000000000001';
    const report = await tampered(
      [30],
      `INSERT INTO audit_record SELECT $2::uuid, chain, position, type, occurred_at, recorded_at, actor_kind, actor_unit_id, actor_account_id, actor_client_id,
        subject, traceparent, resource_code, grant_id, route, mode, items, row_count, 'ok', latency_ms, request_id, source_address, owner_unit_id, data, prev_hash, hash
        FROM audit_record WHERE chain = $1 AND position = 30`,
      [chain, forged],
    );
    expect(report.firstProblem).toMatchObject({ chain, position: 30 });
    expect(report.problems.map((p: { code: string }) => p.code)).toContain('duplicate-position');
  });

  it('catches records cut off the end of a chain, which the chain alone cannot show, through the signed checkpoint', async () => {
    const report = await tampered([length], 'DELETE FROM audit_record WHERE chain = $1 AND position = $2', [chain, length]);
    expect(report.firstProblem).toMatchObject({ code: 'checkpoint-head-missing', chain, position: length, checkpointSeq: 1 });
  });

  it('catches a changed checkpoint by its signature', async () => {
    await pg.query('SET session_replication_role = replica');
    try {
      await pg.query('UPDATE audit_checkpoint SET size = size - 1 WHERE seq = 1');
      const report = await verify();
      expect(report.ok).toBe(false);
      expect(report.problems.map((p: { code: string }) => p.code)).toEqual(expect.arrayContaining(['checkpoint-bad-signature', 'checkpoint-changed']));
      expect(report.firstProblem).toMatchObject({ checkpointSeq: 1 });
    } finally {
      await pg.query('UPDATE audit_checkpoint SET size = size + 1 WHERE seq = 1');
      await pg.query('SET session_replication_role = origin');
    }
    expect((await verify()).ok).toBe(true);
  });

  it('refuses UPDATE, DELETE and TRUNCATE even to the owner while the triggers are on', async () => {
    await expect(pg.query('UPDATE audit_record SET result = $1 WHERE chain = $2 AND position = 1', ['denied', chain])).rejects.toThrow(/append-only/);
    await expect(pg.query('DELETE FROM audit_record WHERE chain = $1 AND position = 1', [chain])).rejects.toThrow(/append-only/);
    await expect(pg.query('TRUNCATE audit_record')).rejects.toThrow(/append-only/);
    const { rows } = await pg.query(`SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'audit_record'::regclass`);
    for (const { relname } of rows) await expect(pg.query(`TRUNCATE ${relname}`)).rejects.toThrow(/append-only/);
    await expect(pg.query('DELETE FROM audit_checkpoint')).rejects.toThrow(/append-only/);
    await expect(pg.query('DELETE FROM audit_record_key')).rejects.toThrow(/append-only/);
    expect(await recordCount(pg)).toBe(N);
  });

  it('lets the writer role read and insert, never change', async () => {
    await pg.query('BEGIN');
    try {
      await pg.query('SET LOCAL ROLE gdx_audit_writer');
      const { rows } = await pg.query('SELECT count(*)::int AS n FROM audit_record');
      expect(rows[0].n).toBe(N);
      await expect(pg.query('UPDATE audit_record SET result = $1 WHERE chain = $2 AND position = 1', ['denied', chain])).rejects.toThrow(/permission denied/);
    } finally {
      await pg.query('ROLLBACK');
    }
    for (const [table, privilege, granted] of [
      ['audit_record', 'INSERT', true],
      ['audit_record', 'SELECT', true],
      ['audit_record', 'UPDATE', false],
      ['audit_record', 'DELETE', false],
      ['audit_record', 'TRUNCATE', false],
      ['audit_checkpoint', 'UPDATE', false],
      ['audit_record_key', 'DELETE', false],
    ] as const) {
      const { rows } = await pg.query('SELECT has_table_privilege($1, $2, $3) AS ok', ['gdx_audit_writer', `audit.${table}`, privilege]);
      expect([table, privilege, rows[0].ok]).toEqual([table, privilege, granted]);
    }
    const { rows: role } = await pg.query(`SELECT rolcanlogin FROM pg_roles WHERE rolname = 'gdx_audit_writer'`);
    expect(role[0].rolcanlogin).toBe(false);
  });

  it('exports a trail that the command-line verifier checks offline, and names the position of a change in the file', async () => {
    const res = await request(app.server)
      .get('/api/v1/audit/export')
      .auth(auditorToken(), { type: 'bearer' })
      .buffer(true)
      .parse((r, cb) => {
        let body = '';
        r.setEncoding('utf8');
        r.on('data', (c: string) => (body += c));
        r.on('end', () => cb(null, body));
      })
      .expect(200);
    expect(res.headers['content-type']).toMatch(/application\/x-ndjson/);
    const lines = (res.body as string)
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines[0]).toMatchObject({ kind: 'header', format: 'gdx-audit-export' });
    expect(lines.filter((l) => l.kind === 'record')).toHaveLength(N);
    expect(lines.filter((l) => l.kind === 'checkpoint')).toHaveLength(1);
    expect(lines.filter((l) => l.kind === 'key')).toHaveLength(1);

    const dir = mkdtempSync(join(tmpdir(), 'gdx-audit-export-'));
    const good = join(dir, 'export.json');
    writeFileSync(good, res.body as string);
    expect(await verifyExportFile(good)).toMatchObject({ ok: true, records: N, checkpoints: 1 });

    const i = lines.findIndex((l) => l.kind === 'record' && l.chain === chain && l.position === 7);
    const changed = lines.map((l, j) => (j === i ? { ...l, subject: 'forged' } : l));
    const bad = join(dir, 'tampered.json');
    writeFileSync(bad, changed.map((l) => JSON.stringify(l)).join('\n'));
    const report = await verifyExportFile(bad);
    expect(report.firstProblem).toMatchObject({ code: 'content-changed', chain, position: 7, recordId: lines[i].id });

    // The built command itself: exit code 0 for a good file, 1 for a broken one, the report on stdout.
    const ok = await run(process.execPath, [CLI, '--file', good]);
    expect(JSON.parse(ok.stdout)).toMatchObject({ ok: true, records: N });
    const failed = await run(process.execPath, [CLI, '--file', bad]).then(
      () => null,
      (e: { code: number; stdout: string; stderr: string }) => e,
    );
    expect(failed?.code).toBe(1);
    expect(JSON.parse(failed?.stdout ?? '{}').firstProblem).toMatchObject({ chain, position: 7 });
    expect(failed?.stderr).toMatch(new RegExp(`chain ${chain} position 7`));

    // Only the pinned key is trusted: the file's own key is then not enough.
    const otherKey = join(dir, 'other.pem');
    writeFileSync(otherKey, generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString());
    expect((await verifyExportFile(good, otherKey)).firstProblem).toMatchObject({ code: 'checkpoint-unknown-key', checkpointSeq: 1 });
  });

  it('the command-line verifier checks the live database too', async () => {
    const env = { ...process.env, DATABASE_URL: db.url, AUDIT_KEYS_DIR: keysDir };
    const ok = await run(process.execPath, [CLI], { env });
    expect(JSON.parse(ok.stdout)).toMatchObject({ ok: true, records: N });
    await pg.query('SET session_replication_role = replica');
    await pg.query(`UPDATE audit_record SET subject = 'forged' WHERE chain = $1 AND position = 3`, [chain]);
    await pg.query('SET session_replication_role = origin');
    const failed = await run(process.execPath, [CLI], { env }).then(
      () => null,
      (e: { code: number; stdout: string }) => e,
    );
    expect(failed?.code).toBe(1);
    expect(JSON.parse(failed?.stdout ?? '{}').firstProblem).toMatchObject({ code: 'content-changed', chain, position: 3 });
  });

  it('documents its routes in the OpenAPI document', async () => {
    const doc = (await request(app.server).get('/openapi.json').expect(200)).body;
    for (const path of ['/api/v1/audit/records', '/api/v1/audit/records/{id}', '/api/v1/audit/verify', '/api/v1/audit/checkpoints', '/api/v1/audit/export'])
      expect(Object.keys(doc.paths)).toContain(path);
    expect(doc.paths['/api/v1/audit/checkpoints'].post.responses).toHaveProperty('201');
  });

  it('keeps verification and checkpoints to the office', async () => {
    const unit = tokenFor(['unit_admin']);
    await request(app.server).get('/api/v1/audit/verify').auth(unit, { type: 'bearer' }).expect(403);
    await request(app.server).post('/api/v1/audit/checkpoints').auth(unit, { type: 'bearer' }).expect(403);
    await request(app.server).get('/api/v1/audit/export').auth(unit, { type: 'bearer' }).expect(403);
    await request(app.server).get('/api/v1/audit/verify').expect(401);
    await request(app.server)
      .post('/api/v1/audit/checkpoints')
      .auth(tokenFor(['office_admin']), { type: 'bearer' })
      .expect(201);
  });
});
