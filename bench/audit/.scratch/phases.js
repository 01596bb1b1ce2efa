const { randomBytes, randomUUID } = require('node:crypto');
const { Client } = require('pg');
const { migrate } = require('/work/main/libs/database/dist');
const { createEvent } = require('/work/main/libs/events/dist');
const { auditDataSource } = require('/work/main/services/audit/dist/data-source');
const { AuditRecordRepository } = require('/work/main/services/audit/dist/trail/audit-record.repository');
const { draftFromEvent } = require('/work/main/services/audit/dist/trail/audit-record.mapper');
const { ChainService } = require('/work/main/services/audit/dist/trail/chain.service');
const N = 20000, B = 1000;
function makeEvents(n) {
  return Array.from({ length: n }, (_, i) => createEvent('query.executed', { actor: { kind: 'client', unitId: randomUUID(), clientId: randomUUID() }, subject: 'x', data: { resourceCode: '1/01/0' + (i%9), grantId: randomUUID(), providerUnitId: randomUUID(), route: '/api/v1/query/x', mode: 'interface', items: ['a','b','c','d'], rowCount: 1, result: 'allowed', latencyMs: 1.2, requestId: randomUUID(), ip: '10.1.1.1', purpose: '社会救助对象资格核验' } }));
}
(async () => {
  const name = 'gdx_prof_' + randomBytes(3).toString('hex');
  const admin = new Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' }); await admin.connect();
  await admin.query('CREATE DATABASE ' + name);
  const url = 'postgres://postgres@127.0.0.1:5432/' + name;
  const ds = auditDataSource(url, 4); await migrate(ds); await ds.initialize();
  const repo = new AuditRecordRepository(ds); const chain = new ChainService();
  const evs = makeEvents(N);
  const tm = {};
  const lap = (k, t) => { const now = process.hrtime.bigint(); tm[k] = (tm[k] || 0) + Number(now - t) / 1e6; return now; };
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i += B) {
    let t = process.hrtime.bigint();
    const now = new Date().toISOString();
    const drafts = evs.slice(i, i + B).map((e) => draftFromEvent(e, now));
    t = lap('map', t);
    const qr = ds.createQueryRunner(); await qr.connect(); await qr.startTransaction();
    const m = qr.manager;
    await m.query('SET LOCAL ROLE gdx_audit_writer');
    t = lap('begin', t);
    const fresh = await repo.claim(m, drafts);
    t = lap('claim', t);
    const c = await repo.lockChain(m, 8, i / B);
    const head = await repo.head(m, c);
    t = lap('lock+head', t);
    const recs = chain.link(drafts, head);
    t = lap('link', t);
    const json = JSON.stringify(recs.map(r => r));
    t = lap('stringify-ish', t);
    await repo.insert(m, recs);
    t = lap('insert', t);
    await qr.commitTransaction(); await qr.release();
    t = lap('commit', t);
  }
  const total = Number(process.hrtime.bigint() - t0) / 1e6;
  console.log('total ms', total.toFixed(0), 'ev/s', Math.round(N / total * 1000), Object.fromEntries(Object.entries(tm).map(([k, v]) => [k, +(v / (N / 1000)).toFixed(1) + 'us/ev'])));
  await ds.destroy();
  await admin.query('DROP DATABASE ' + name + ' WITH (FORCE)'); await admin.end();
})();
