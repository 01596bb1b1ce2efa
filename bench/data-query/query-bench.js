#!/usr/bin/env node
'use strict';
/**
 * Interface query vs a raw pg point lookup, 1,000,000-row population table (design §9:
 * "interface query end to end ≥ 0.4 of a raw pg point lookup loop in the same run").
 *
 *   npx tsc -b services/data-query && node bench/data-query/query-bench.js [--rows 1000000] [--connections 32] [--duration 15] [--rounds 3] [--pool 10] [--replicas 1] [--keep]
 *
 * Scratch database (BENCH_DATABASE_URL's server, database gdx_bench_data_query), the
 * population resource and a grant published as events, the population NDJSON generated
 * (cached in $TMPDIR) and COPYed in, data-query in a child process. Then, at the same
 * concurrency and pool size, alternating rounds of:
 *   1. autocannon → POST /api/v1/query/101001%2F0001 { where: { idNumber } } straight to data-query
 *      (JWT verify, grant check, masking, prepared statement, audit event in Redis before the answer);
 *   2. a loop of prepared `SELECT … WHERE id_number = $1` on a pg pool.
 * Keys are drawn at random from the whole table. Medians go to stdout and bench/data-query/results/.
 */
const { mkdirSync, writeFileSync } = require('node:fs');
const { randomUUID } = require('node:crypto');
const { join } = require('node:path');
const { args, log, setup, populationFile, waitFor, run, POPULATION } = require('./harness');
const { cpuSample, busyShare } = require('../lib/scratch');

function percentile(sorted, p) {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN;
}

async function rawLoop(pool, sql, keyAt, connections, seconds) {
  const latencies = [];
  let errors = 0;
  const end = Date.now() + seconds * 1000;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (Date.now() < end) {
        const t = process.hrtime.bigint();
        try {
          const { rows } = await pool.query({ name: 'bench_point', text: sql, values: [keyAt()] });
          if (rows.length !== 1) errors++;
        } catch {
          errors++;
        }
        latencies.push(Number(process.hrtime.bigint() - t) / 1e6);
      }
    }),
  );
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
  latencies.sort((x, y) => x - y);
  return { requests: latencies.length, errors, rps: latencies.length / elapsed, p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

function cannon(opts) {
  const autocannon = require('autocannon');
  return new Promise((resolve, reject) => autocannon(opts, (err, result) => (err ? reject(err) : resolve(result))));
}

async function main() {
  const a = args({ rows: 1_000_000, connections: 32, duration: 15, pool: 10, warmup: 3, rounds: 3, replicas: 1 });
  const { DatasetRegistry, copyNdjsonIntoDataset, personOf } = require('@gdx/data-query/testing');
  const h = await setup({ pool: a.pool, replicas: a.replicas });

  const file = await populationFile(a.rows);
  const registry = new DatasetRegistry(h.pool);
  await registry.reload(POPULATION);
  const loadStarted = Date.now();
  const client = await h.pool.connect();
  const loaded = await copyNdjsonIntoDataset(client, registry.get(POPULATION), file);
  client.release();
  const loadSeconds = (Date.now() - loadStarted) / 1000;
  log(`COPY loaded ${loaded} rows in ${loadSeconds.toFixed(1)} s (${Math.round(loaded / loadSeconds)} rows/s, validated)`);

  // A realistic grant for a business system: a few items, masking on, lookup by identity number.
  const grant = {
    id: randomUUID(),
    consumerUnitId: h.consumerUnitId,
    providerUnitId: h.providerUnitId,
    resourceCode: POPULATION,
    items: ['idNumber', 'name', 'sex', 'birthDate', 'regionCode'],
    rowFilter: null,
    modes: ['interface'],
    rateLimitPerSecond: 100000,
    dailyQuota: 100000000,
    validFrom: new Date(Date.now() - 86400000).toISOString(),
    validTo: new Date(Date.now() + 86400000).toISOString(),
    purpose: 'benchmark',
    requestId: randomUUID(),
    status: 'active',
    statusReason: null,
    version: 1,
  };
  await h.xadd('grant', 'grant.issued', grant.id, grant);
  const token = h.tokenFor(h.consumerUnitId, 'client', ['client']);
  const path = `/api/v1/query/${encodeURIComponent(POPULATION)}`;
  // Keys (and bodies) drawn up front from the whole table, so neither side spends its time making them.
  const keys = Array.from({ length: 100_000 }, () => personOf(Math.floor(Math.random() * a.rows)).idNumber);
  const bodies = keys.map((k) => JSON.stringify({ where: { idNumber: k } }));
  let next = 0;
  const keyAt = () => keys[(next = (next + 1) % keys.length)];
  const bodyAt = () => bodies[(next = (next + 1) % bodies.length)];
  const probe = () =>
    fetch(`http://127.0.0.1:${h.port}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ where: { idNumber: keyAt() } }),
    });
  await waitFor('the grant to reach data-query', async () => (await probe()).status === 200);
  log('sample answer', JSON.stringify(await (await probe()).json()));

  const request = { method: 'POST', path, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, setupRequest: (req) => ({ ...req, body: bodyAt() }) };
  // With several replicas the connections are shared out among them, one autocannon each, and the figures summed.
  const cannonOpts = (duration, port = h.port, connections = a.connections) => ({ url: `http://127.0.0.1:${port}`, connections, duration, requests: [request] });
  const cannonAll = async (duration) => {
    const parts = await Promise.all(h.ports.map((port, i) => cannon(cannonOpts(duration, port, Math.floor(a.connections / h.ports.length) + (i < a.connections % h.ports.length ? 1 : 0)))));
    if (parts.length === 1) return parts[0];
    const weighted = (k) => parts.reduce((x, p) => x + p.latency[k] * p.requests.total, 0) / parts.reduce((x, p) => x + p.requests.total, 0);
    return {
      requests: { average: parts.reduce((x, p) => x + p.requests.average, 0), total: parts.reduce((x, p) => x + p.requests.total, 0) },
      latency: { p50: weighted('p50'), p99: Math.max(...parts.map((p) => p.latency.p99)) },
      non2xx: parts.reduce((x, p) => x + p.non2xx, 0),
      errors: parts.reduce((x, p) => x + p.errors, 0),
      timeouts: parts.reduce((x, p) => x + p.timeouts, 0),
    };
  };
  const pointSql = `SELECT id_number, name, sex, ethnicity, birth_date, region_code, household_address FROM data_query_rows.r_101001_0001 WHERE _deleted_at IS NULL AND id_number = $1`;

  log(`warm-up ${a.warmup} s each`);
  await cannonAll(a.warmup);
  await rawLoop(h.pool, pointSql, keyAt, a.connections, a.warmup);

  // Rounds alternate the two paths so that load from elsewhere on the machine hits both alike; medians are reported.
  const dqRounds = [];
  const rawRounds = [];
  for (let round = 1; round <= a.rounds; round++) {
    log(`round ${round}/${a.rounds}: data-query, ${a.connections} connections, ${a.duration} s`);
    const [s0, p0, m0] = [await h.stats(), process.cpuUsage(), cpuSample()];
    const r = await cannonAll(a.duration);
    const [s1, p1, m1] = [await h.stats(), process.cpuUsage(p0), cpuSample()];
    dqRounds.push({
      rps: r.requests.average,
      requests: r.requests.total,
      non2xx: r.non2xx,
      errors: r.errors,
      timeouts: r.timeouts,
      p50: r.latency.p50,
      p99: r.latency.p99,
      serviceCpuUsPerRequest: (s1.cpu.user + s1.cpu.system - s0.cpu.user - s0.cpu.system) / r.requests.total,
      loadGeneratorCpuUsPerRequest: (p1.user + p1.system) / r.requests.total,
      serviceRssMB: Math.round(s1.rss / 1e6),
      lookupsPerStatement: (s1.points.lookups - s0.points.lookups) / Math.max(1, s1.points.statements - s0.points.statements),
      auditEventsPerWrite: (s1.audit.events - s0.audit.events) / Math.max(1, s1.audit.calls - s0.audit.calls),
      machineBusy: busyShare(m0, m1),
    });
    log(`round ${round}/${a.rounds}: raw pg, ${a.connections} concurrent, pool ${a.pool}, ${a.duration} s`);
    const [q0, n0] = [process.cpuUsage(), cpuSample()];
    const raw = await rawLoop(h.pool, pointSql, keyAt, a.connections, a.duration);
    const [q1, n1] = [process.cpuUsage(q0), cpuSample()];
    rawRounds.push({ ...raw, clientCpuUsPerRequest: (q1.user + q1.system) / raw.requests, machineBusy: busyShare(n0, n1) });
  }
  const median = (list) => [...list].sort((x, y) => x.rps - y.rps)[Math.floor(list.length / 2)];
  const dq = median(dqRounds);
  const raw = median(rawRounds);
  const result = {
    when: new Date().toISOString(),
    command: `node bench/data-query/query-bench.js ${process.argv.slice(2).join(' ')}`.trim(),
    rows: loaded,
    connections: a.connections,
    replicas: a.replicas,
    durationSeconds: a.duration,
    poolSize: a.pool,
    loadAverageAtStart: h.loadAtStart,
    dataQuery: dq,
    rawPg: raw,
    ratio: dq.rps / raw.rps,
    target: 0.4,
    rounds: { dataQuery: dqRounds, rawPg: rawRounds },
    auditEventsWritten: await h.redis.xlen(h.streamKey(h.prefix, 'query')),
    load: { rows: loaded, seconds: loadSeconds },
  };
  const f = (n) => (Number.isFinite(n) ? n.toFixed(2) : String(n));
  console.log('\n| path | req/s | p50 ms | p99 ms | errors |\n|---|---|---|---|---|');
  console.log(`| data-query POST /api/v1/query (JWT, grant, masking, audit) | ${f(dq.rps)} | ${f(dq.p50)} | ${f(dq.p99)} | ${dq.non2xx + dq.errors} |`);
  console.log(`| raw pg prepared point lookup | ${f(raw.rps)} | ${f(raw.p50)} | ${f(raw.p99)} | ${raw.errors} |`);
  console.log(
    `\nratio data-query (${a.replicas} replica${a.replicas > 1 ? 's' : ''}) / raw pg = ${result.ratio.toFixed(3)} (target ≥ ${result.target}; medians of ${a.rounds} alternating rounds; load average at start ${h.loadAtStart.join(' ')})`,
  );
  console.log(
    `CPU per request: data-query ${dq.serviceCpuUsPerRequest.toFixed(0)} µs + load generator ${dq.loadGeneratorCpuUsPerRequest.toFixed(0)} µs; raw pg client ${raw.clientCpuUsPerRequest.toFixed(0)} µs; machine busy ${(dq.machineBusy * 100).toFixed(0)}% / ${(raw.machineBusy * 100).toFixed(0)}%; ${dq.lookupsPerStatement.toFixed(1)} lookups per statement; ${dq.auditEventsPerWrite.toFixed(1)} audit events per write; data-query RSS ${dq.serviceRssMB} MB`,
  );
  console.log(
    'rounds (req/s): data-query',
    dqRounds.map((r) => Math.round(r.rps)).join(', '),
    '| raw pg',
    rawRounds.map((r) => Math.round(r.rps)).join(', '),
    `| audit events written ${result.auditEventsWritten}\n`,
  );
  const dir = join(__dirname, 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `query-${result.when.replace(/[:.]/g, '-')}.json`), `${JSON.stringify(result, null, 2)}\n`);
  await h.teardown();
}

run(main);
