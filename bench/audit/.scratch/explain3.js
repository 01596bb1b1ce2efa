const { randomBytes, randomUUID } = require('node:crypto');
const { Client } = require('pg');
const { migrate } = require('/work/main/libs/database/dist');
const { createEvent } = require('/work/main/libs/events/dist');
const { auditDataSource } = require('/work/main/services/audit/dist/data-source');
const { draftFromEvent } = require('/work/main/services/audit/dist/trail/audit-record.mapper');
const { ChainService } = require('/work/main/services/audit/dist/trail/chain.service');
const N = 1000;
const evs = Array.from({ length: N }, (_, i) => createEvent('query.executed', { actor: { kind: 'client', unitId: randomUUID(), clientId: randomUUID() }, subject: 'x', data: { resourceCode: '1/01/0' + (i%9), grantId: randomUUID(), providerUnitId: randomUUID(), route: '/api/v1/query/x', mode: 'interface', items: ['a','b','c','d'], rowCount: 1, result: 'allowed', latencyMs: 1.2, requestId: randomUUID(), ip: '10.1.1.1', purpose: '社会救助对象资格核验' } }));
const now = new Date().toISOString();
const recs = new ChainService().link(evs.map(e => draftFromEvent(e, now)), { chain: 0, position: 0, hash: '' });
const COLS = ['event_id','chain','position','type','occurred_at','recorded_at','actor_kind','actor_unit_id','actor_account_id','actor_client_id','subject','traceparent','resource_code','grant_id','route','mode','items','row_count','result','latency_ms','request_id','source_address','owner_unit_id','data','prev_hash','hash'];
const row = (r) => [r.id, r.chain, r.position, r.type, r.occurredAt, r.recordedAt, r.actor.kind, r.actor.unitId, r.actor.accountId, r.actor.clientId, r.subject, r.traceparent, r.resourceCode, r.grantId, r.route, r.mode, r.items, r.rowCount, r.result, r.latencyMs, r.requestId, r.sourceAddress, r.ownerUnitId, r.data, r.prevHash, r.hash];
(async () => {
  const name = 'gdx_prof_' + randomBytes(3).toString('hex');
  const admin = new Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' }); await admin.connect();
  await admin.query('CREATE DATABASE ' + name);
  const url = 'postgres://postgres@127.0.0.1:5432/' + name;
  await migrate(auditDataSource(url, 1));
  const c = new Client({ connectionString: url, options: '-c search_path=audit' }); await c.connect();
  await c.query('CREATE TABLE plain (LIKE audit_record)');
  await c.query('CREATE TABLE plain_pk (LIKE audit_record INCLUDING INDEXES)');
  const payload = JSON.stringify(recs.map(r => { const v = row(r); return Object.fromEntries(COLS.map((k, i) => [k, v[i]])); }));
  const tests = {
    'json_populate count': `SELECT count(*) FROM json_populate_recordset(null::audit_record, $1::json)`,
    'jsonb_populate count': `SELECT count(*) FROM jsonb_populate_recordset(null::audit_record, $1::jsonb)`,
    'jsonb parse only': `SELECT jsonb_array_length($1::jsonb)`,
    'insert plain (no idx)': `INSERT INTO plain SELECT * FROM jsonb_populate_recordset(null::audit_record, $1::jsonb)`,
    'insert plain_pk (PK only)': `INSERT INTO plain_pk SELECT * FROM jsonb_populate_recordset(null::audit_record, $1::jsonb)`,
    'insert audit_record': `INSERT INTO audit_record SELECT * FROM jsonb_populate_recordset(null::audit_record, $1::jsonb)`,
  };
  const res = {};
  for (let k = 0; k < 5; k++) for (const [label, sql] of Object.entries(tests)) {
    await c.query('BEGIN');
    const t = process.hrtime.bigint();
    await c.query(sql, [payload]);
    const ms = Number(process.hrtime.bigint() - t) / 1e6;
    await c.query('ROLLBACK');
    if (k >= 2) res[label] = Math.min(res[label] ?? 1e9, ms);
  }
  console.log(res);
  await c.end();
  await admin.query('DROP DATABASE ' + name + ' WITH (FORCE)'); await admin.end();
})().catch(e => { console.error(e); process.exit(1); });
