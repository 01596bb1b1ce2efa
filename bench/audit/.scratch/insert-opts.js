const { randomBytes, randomUUID } = require('node:crypto');
const { Client } = require('pg');
const { migrate } = require('/work/main/libs/database/dist');
const { createEvent } = require('/work/main/libs/events/dist');
const { auditDataSource } = require('/work/main/services/audit/dist/data-source');
const { draftFromEvent } = require('/work/main/services/audit/dist/trail/audit-record.mapper');
const { ChainService } = require('/work/main/services/audit/dist/trail/chain.service');
const N = 20000, B = 1000;
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
  const run = async (label, fn) => { await c.query('SET session_replication_role = replica'); await c.query('TRUNCATE audit_record'); await c.query('SET session_replication_role = origin'); const t = process.hrtime.bigint(); for (let i = 0; i < N; i += B) await fn(recs.slice(i, i + B)); console.log(label, (Number(process.hrtime.bigint() - t) / 1e3 / N).toFixed(1), 'us/row'); };
  for (let k = 0; k < 2; k++) {
  await run('json_populate', (rs) => c.query(`INSERT INTO audit_record (${COLS}) SELECT ${COLS} FROM json_populate_recordset(null::audit_record, $1::json)`, [JSON.stringify(rs.map(r => Object.fromEntries(COLS.map((k, i) => [k, row(r)[i]]))))]));
  await run('unnest', (rs) => c.query(`INSERT INTO audit_record (${COLS}) SELECT * FROM unnest($1::uuid[], $2::int[], $3::bigint[], $4::text[], $5::timestamptz[], $6::timestamptz[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::text[], $16::text[], $17::text[], $18::bigint[], $19::text[], $20::float8[], $21::text[], $22::text[], $23::text[], $24::jsonb[], $25::text[], $26::text[]) AS u`.replace('SELECT *', `SELECT ${COLS.map((c, i) => c === 'items' ? `u.c${i}::text[]` : `u.c${i}`).join(', ')}`).replace(') AS u', `) AS u(${COLS.map((_, i) => 'c' + i).join(',')})`),
    COLS.map((col, i) => rs.map(r => { const v = row(r)[i]; if (col === 'items') return v ? '{' + v.map(s => '"' + s.replace(/[\\"]/g, '\\$&') + '"').join(',') + '}' : null; if (col === 'data') return JSON.stringify(v); return v; }))));
  await run('jsonb_to_recordset-free: plain jsonb col only', (rs) => c.query(`INSERT INTO audit_record (${COLS}) SELECT ${COLS} FROM jsonb_populate_recordset(null::audit_record, $1::jsonb)`, [JSON.stringify(rs.map(r => Object.fromEntries(COLS.map((k, i) => [k, row(r)[i]]))))]));
  }
  await c.end();
  await admin.query('DROP DATABASE ' + name + ' WITH (FORCE)'); await admin.end();
})().catch(e => { console.error(e); process.exit(1); });
