const { randomBytes, randomUUID } = require('node:crypto');
const { Client } = require('pg');
const { migrate } = require('/work/main/libs/database/dist');
const { createEvent } = require('/work/main/libs/events/dist');
const { auditDataSource } = require('/work/main/services/audit/dist/data-source');
const { draftFromEvent } = require('/work/main/services/audit/dist/trail/audit-record.mapper');
const { ChainService } = require('/work/main/services/audit/dist/trail/chain.service');
const B = 1000, BATCHES = 30;
function batch(pos) {
  const evs = Array.from({ length: B }, (_, i) => createEvent('query.executed', { actor: { kind: 'client', unitId: randomUUID(), clientId: randomUUID() }, subject: 'x', data: { resourceCode: '1/01/0' + (i%9), grantId: randomUUID(), providerUnitId: randomUUID(), route: '/api/v1/query/x', mode: 'interface', items: ['a','b','c','d'], rowCount: 1, result: 'allowed', latencyMs: 1.2, requestId: randomUUID(), ip: '10.1.1.1', purpose: '社会救助对象资格核验' } }));
  const now = new Date().toISOString();
  return { evs, recs: new ChainService().link(evs.map(e => draftFromEvent(e, now)), { chain: 0, position: pos, hash: pos ? 'a'.repeat(64) : '' }) };
}
const COLS = ['event_id','chain','position','type','occurred_at','recorded_at','actor_kind','actor_unit_id','actor_account_id','actor_client_id','subject','traceparent','resource_code','grant_id','route','mode','items','row_count','result','latency_ms','request_id','source_address','owner_unit_id','data','prev_hash','hash'];
const types = ['uuid','int','bigint','text','timestamptz','timestamptz','text','text','text','text','text','text','text','text','text','text','text[]','bigint','text','float8','text','text','text','jsonb','text','text'];
const row = (r) => [r.id, r.chain, r.position, r.type, r.occurredAt, r.recordedAt, r.actor.kind, r.actor.unitId, r.actor.accountId, r.actor.clientId, r.subject, r.traceparent, r.resourceCode, r.grantId, r.route, r.mode, r.items ? '{' + r.items.join(',') + '}' : null, r.rowCount, r.result, r.latencyMs, r.requestId, r.sourceAddress, r.ownerUnitId, r.data, r.prevHash, r.hash];
const sel = COLS.map((c, i) => c === 'data' ? `r->${i}` : `(r->>${i})::${types[i]}`).join(', ');
(async () => {
  const name = 'gdx_prof_' + randomBytes(3).toString('hex');
  const admin = new Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' }); await admin.connect();
  await admin.query('CREATE DATABASE ' + name);
  const url = 'postgres://postgres@127.0.0.1:5432/' + name;
  await migrate(auditDataSource(url, 1));
  const c = new Client({ connectionString: url, options: '-c search_path=audit' }); await c.connect();
  await c.query('CREATE TABLE rec_noidx (LIKE audit_record INCLUDING DEFAULTS) PARTITION BY RANGE (occurred_at)');
  await c.query(`CREATE TABLE rec_noidx_p PARTITION OF rec_noidx DEFAULT`);
  await c.query('CREATE TABLE rec_pk (LIKE audit_record INCLUDING DEFAULTS, PRIMARY KEY (occurred_at, event_id)) PARTITION BY RANGE (occurred_at)');
  await c.query(`CREATE TABLE rec_pk_p PARTITION OF rec_pk DEFAULT`);
  await c.query(`CREATE INDEX ON rec_pk (chain, position)`);
  await c.query('CREATE TABLE rec_vis (LIKE audit_record INCLUDING DEFAULTS, PRIMARY KEY (occurred_at, event_id)) PARTITION BY RANGE (occurred_at)');
  await c.query(`CREATE TABLE rec_vis_p PARTITION OF rec_vis DEFAULT`);
  await c.query(`CREATE INDEX ON rec_vis (chain, position)`);
  await c.query(`CREATE INDEX ON rec_vis (actor_unit_id, occurred_at)`);
  await c.query(`CREATE INDEX ON rec_vis (owner_unit_id, occurred_at) WHERE owner_unit_id IS NOT NULL`);
  await c.query('CREATE TABLE rec_hash (LIKE audit_record INCLUDING DEFAULTS, PRIMARY KEY (occurred_at, event_id)) PARTITION BY RANGE (occurred_at)');
  await c.query(`CREATE TABLE rec_hash_p PARTITION OF rec_hash DEFAULT`);
  await c.query(`CREATE INDEX ON rec_hash (chain, position)`);
  await c.query(`CREATE INDEX ON rec_hash (actor_unit_id, occurred_at)`);
  await c.query(`CREATE INDEX ON rec_hash (owner_unit_id, occurred_at) WHERE owner_unit_id IS NOT NULL`);
  await c.query(`CREATE INDEX ON rec_hash (resource_code, occurred_at) WHERE resource_code IS NOT NULL`);
  await c.query(`CREATE INDEX ON rec_hash USING hash (request_id) WHERE request_id IS NOT NULL`);
  await c.query(`CREATE INDEX ON rec_hash USING hash (grant_id) WHERE grant_id IS NOT NULL`);
  await c.query('CREATE TABLE rec_evid (LIKE audit_record INCLUDING DEFAULTS) PARTITION BY RANGE (occurred_at)');
  await c.query(`CREATE TABLE rec_evid_p PARTITION OF rec_evid DEFAULT`);
  await c.query(`CREATE INDEX ON rec_evid (event_id)`);
  await c.query('CREATE TABLE bench_raw (id uuid PRIMARY KEY, type text NOT NULL, occurred_at timestamptz NOT NULL, envelope jsonb NOT NULL)');
  const variants = {
    baseline: async ({ evs }) => c.query(`INSERT INTO bench_raw (id, type, occurred_at, envelope) SELECT (e->>'id')::uuid, e->>'type', (e->>'occurredAt')::timestamptz, e FROM jsonb_array_elements($1::jsonb) AS e`, [JSON.stringify(evs)]),
    keyOnly: async ({ recs }) => c.query(`INSERT INTO audit_record_key (event_id, occurred_at) SELECT * FROM unnest($1::uuid[], $2::timestamptz[]) ON CONFLICT DO NOTHING RETURNING event_id`, [recs.map(r => r.id), recs.map(r => r.occurredAt)]),
    recNoIdx: async ({ recs }) => c.query(`INSERT INTO rec_noidx (${COLS}) SELECT ${sel} FROM jsonb_array_elements($1::jsonb) r`, [JSON.stringify(recs.map(row))]),
    recPkChain: async ({ recs }) => c.query(`INSERT INTO rec_pk (${COLS}) SELECT ${sel} FROM jsonb_array_elements($1::jsonb) r`, [JSON.stringify(recs.map(row))]),
    recVis: async ({ recs }) => c.query(`INSERT INTO rec_vis (${COLS}) SELECT ${sel} FROM jsonb_array_elements($1::jsonb) r`, [JSON.stringify(recs.map(row))]),
    recEvId: async ({ recs }) => c.query(`INSERT INTO rec_evid (${COLS}) SELECT ${sel} FROM jsonb_array_elements($1::jsonb) r`, [JSON.stringify(recs.map(row))]),
    recHash: async ({ recs }) => c.query(`INSERT INTO rec_hash (${COLS}) SELECT ${sel} FROM jsonb_array_elements($1::jsonb) r`, [JSON.stringify(recs.map(row))]),
    recFull: async ({ recs }) => c.query(`INSERT INTO audit_record (${COLS}) SELECT ${sel} FROM jsonb_array_elements($1::jsonb) r`, [JSON.stringify(recs.map(row))]),
  };
  const tot = {};
  let pos = 0;
  for (let round = 0; round < BATCHES; round++) {
    const b = batch(pos); pos += B;
    for (const [k, f] of Object.entries(variants)) {
      const t = process.hrtime.bigint(); await f(b); const us = Number(process.hrtime.bigint() - t) / 1e3 / B;
      if (round > 1) (tot[k] ??= []).push(us);
    }
  }
  for (const [k, v] of Object.entries(tot)) { v.sort((a, b) => a - b); console.log(k.padEnd(12), 'median us/row', v[v.length >> 1].toFixed(1), 'min', v[0].toFixed(1)); }
  await c.end();
  await admin.query('DROP DATABASE ' + name + ' WITH (FORCE)'); await admin.end();
})().catch(e => { console.error(e); process.exit(1); });
