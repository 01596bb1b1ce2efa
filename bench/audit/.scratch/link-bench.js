const { createEvent } = require('/work/main/libs/events/dist');
const { draftFromEvent } = require('/work/main/services/audit/dist/trail/audit-record.mapper');
const { ChainService } = require('/work/main/services/audit/dist/trail/chain.service');
const { canonicalize } = require('/work/main/services/audit/dist/trail/canonical-json');
const { createHash, randomUUID } = require('crypto');
const evs = Array.from({length: 5000}, (_, i) => createEvent('query.executed', { actor: { kind: 'client', unitId: randomUUID(), clientId: randomUUID() }, subject: 'x', data: { resourceCode: '1/01', grantId: randomUUID(), providerUnitId: randomUUID(), route: '/api/v1/query/x', mode: 'interface', items: ['a','b','c','d'], rowCount: 1, result: 'allowed', latencyMs: 1.2, requestId: randomUUID(), ip: '10.1.1.1', purpose: '社会救助对象资格核验' } }));
const cs = new ChainService();
for (let round = 0; round < 6; round++) {
  const now = new Date().toISOString();
  const drafts = evs.map(e => draftFromEvent(e, now));
  let t = process.hrtime.bigint();
  const recs = cs.link(drafts, { chain: 0, position: 0, hash: '' });
  const a = Number(process.hrtime.bigint() - t) / 1e3 / 5000;
  t = process.hrtime.bigint();
  for (const r of recs) { const { hash, ...c } = r; createHash('sha256').update('gdx-audit-record/1\n').update(canonicalize(c)).digest('hex'); }
  const b = Number(process.hrtime.bigint() - t) / 1e3 / 5000;
  t = process.hrtime.bigint();
  for (const r of recs) createHash('sha256').update('x').digest('hex');
  const h = Number(process.hrtime.bigint() - t) / 1e3 / 5000;
  console.log('link', a.toFixed(1), 'generic', b.toFixed(1), 'empty-hash', h.toFixed(1));
  if (round === 5) console.log('same', recs.every(r => { const { hash, ...c } = r; return createHash('sha256').update('gdx-audit-record/1\n').update(canonicalize(c)).digest('hex') === hash; }));
}
