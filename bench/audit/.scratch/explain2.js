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
const row = (r) => [r.id, r.chain, r.position, r.type, r.occurredAt, r.recordedAt, r.actor.kind, r.actor.unitId, r.actor.accountId, r.actor.clientId, r.subject, r.traceparent, r.resourceCode, r.grantId, r.route, r.mode, r.items, r.rowCount, r.result, r.latencyMs, r.requestId, r.sourceAddress, r.ownerUnitId, JSON.stringify(r.data), r.prevHash, r.hash];
(async () => {
  const name = 'gdx_prof_' + randomBytes(3).toString('hex');
  const admin = new Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' }); await admin.connect();
  await admin.query('CREATE DATABASE ' + name);
  const url = 'postgres://postgres@127.0.0.1:5432/' + name;
  await migrate(auditDataSource(url, 1));
  const c = new Client({ connectionString: url, options: '-c search_path=audit' }); await c.connect();
  const params = []; const tuples = [];
  for (const r of recs) { const vals = row(r); tuples.push('(' + vals.map((v) => { params.push(v); return '$' + params.length; }).join(',') + ')'); }
  const types = { event_id: 'uuid', chain: 'int', position: 'bigint', occurred_at: 'timestamptz', recorded_at: 'timestamptz', items: 'text[]', row_count: 'bigint', latency_ms: 'float8', data: 'jsonb' };
  const sqlV = `INSERT INTO audit_record (${COLS}) VALUES ${tuples.join(',')}`;
  const payload = JSON.stringify(recs.map(r => { const v = row(r); return Object.fromEntries(COLS.map((k, i) => [k, v[i]])); }));
  const sqlJ = `INSERT INTO audit_record (${COLS}) SELECT ${COLS.map(k => k === 'data' ? `(x.data)::jsonb` : `x.${k}`)} FROM json_to_recordset($1::json) AS x(${COLS.map(k => `${k} ${k === 'data' ? 'text' : types[k] ?? 'text'}`)})`;
  for (let k = 0; k < 3; k++) {
    for (const [label, sql, p] of [['values', sqlV, params], ['json_to_recordset data-as-text', sqlJ, [payload]]]) {
      await c.query('BEGIN');
      const t = process.hrtime.bigint();
      await c.query(sql, p);
      const ms = Number(process.hrtime.bigint() - t) / 1e6;
      await c.query('ROLLBACK');
      if (k === 2) console.log(label, ms.toFixed(1), 'ms / 1000 rows');
    }
  }
  await c.end();
  await admin.query('DROP DATABASE ' + name + ' WITH (FORCE)'); await admin.end();
})().catch(e => { console.error(e); process.exit(1); });
