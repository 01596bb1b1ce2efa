const { randomBytes, randomUUID } = require('node:crypto');
const { Client } = require('pg');
const { migrate } = require('/work/main/libs/database/dist');
const { createEvent } = require('/work/main/libs/events/dist');
const { auditDataSource } = require('/work/main/services/audit/dist/data-source');
const { AuditRecordRepository } = require('/work/main/services/audit/dist/trail/audit-record.repository');
const { AuditRecordService } = require('/work/main/services/audit/dist/trail/audit-record.service');
const { ChainService } = require('/work/main/services/audit/dist/trail/chain.service');
const N = 40000, B = 1000;
function makeEvents(n) {
  return Array.from({ length: n }, (_, i) => createEvent('query.executed', { actor: { kind: 'client', unitId: randomUUID(), clientId: randomUUID() }, subject: 'x', data: { resourceCode: '1/01/0' + (i%9), grantId: randomUUID(), providerUnitId: randomUUID(), route: '/api/v1/query/x', mode: 'interface', items: ['a','b','c','d'], rowCount: 1, result: 'allowed', latencyMs: 1.2, requestId: randomUUID(), ip: '10.1.1.1', purpose: '社会救助对象资格核验' } }));
}
(async () => {
  const name = 'gdx_prof_' + randomBytes(3).toString('hex');
  const admin = new Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' }); await admin.connect();
  await admin.query('CREATE DATABASE ' + name);
  const url = 'postgres://postgres@127.0.0.1:5432/' + name;
  const ds = auditDataSource(url, 4); await migrate(ds); await ds.initialize();
  for (const drop of (process.env.DROP || '').split(',').filter(Boolean)) await ds.query('DROP INDEX ' + drop);
  const svc = new AuditRecordService(ds, new AuditRecordRepository(ds), new ChainService(), { chains: 8, writerRole: process.env.ROLE ?? 'gdx_audit_writer' });
  const C = Number(process.env.C || 2);
  for (let round = 0; round < 2; round++) {
    const evs = makeEvents(N);
    const t = process.hrtime.bigint();
    let i = 0;
    await Promise.all(Array.from({ length: C }, async () => { while (i < N) { const s = i; i += B; await svc.ingest(evs.slice(s, s + B)); } }));
    const sec = Number(process.hrtime.bigint() - t) / 1e9;
    console.log('round', round, 'ingest/s', Math.round(N / sec));
  }
  await ds.destroy();
  await admin.query('DROP DATABASE ' + name + ' WITH (FORCE)'); await admin.end();
})();
