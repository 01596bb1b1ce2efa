#!/usr/bin/env node
/* eslint-disable @typescript-eslint/no-require-imports */
'use strict';
/**
 * Interface query vs a raw pg point lookup, 1,000,000-row population table (design §9:
 * "interface query end to end ≥ 0.4 of a raw pg point lookup loop in the same run").
 *
 *   npx tsc -b services/data-query && node bench/data-query/query-bench.js [--rows 1000000] [--connections 32] [--duration 20] [--pool 10]
 *
 * Builds a scratch database (BENCH_DATABASE_URL's server, database gdx_bench_data_query),
 * publishes the population resource and a grant as events, generates the population
 * NDJSON (cached in $TMPDIR) and COPYs it in, starts data-query in a child process (so
 * the load generator does not share its event loop), then measures, at the same
 * concurrency and with the same pool size:
 *   1. autocannon → POST /api/v1/query/101001%2F0001 { where: { idNumber } } straight to data-query
 *      (JWT verify, grant check, row filter, masking, prepared statement, audit XADD);
 *   2. a loop of prepared `SELECT … WHERE id_number = $1` on a pg pool.
 * Keys are drawn at random from the whole table. Results go to stdout and bench/data-query/results/.
 */
const { fork } = require('node:child_process');
const { existsSync, mkdirSync, statSync, writeFileSync } = require('node:fs');
const { generateKeyPairSync, randomUUID, randomBytes } = require('node:crypto');
const { tmpdir } = require('node:os');
const { join } = require('node:path');

const ADMIN_URL = process.env.BENCH_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.BENCH_REDIS_URL || 'redis://127.0.0.1:6379';
const DB_NAME = 'gdx_bench_data_query';
const CODE = '101001/0001';

function args() {
  const a = { rows: 1_000_000, connections: 32, duration: 20, pool: 10, warmup: 3 };
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    const m = /^--([a-z]+)(?:=(.*))?$/.exec(argv[i]);
    if (!m) continue;
    const v = m[2] ?? argv[++i];
    a[m[1]] = Number.isNaN(Number(v)) ? v : Number(v);
  }
  return a;
}

function databaseUrl(name) {
  const u = new URL(ADMIN_URL);
  u.pathname = `/${name}`;
  return u.toString();
}

/* ---------------------------------------------------------------- child: the service */

async function serve() {
  const { buildApp, loadDataQueryConfig } = require('../../services/data-query/dist/app');
  const opts = JSON.parse(process.env.BENCH_SERVER);
  const config = loadDataQueryConfig({}, { databaseUrl: opts.databaseUrl, redisUrl: REDIS_URL, streamPrefix: opts.prefix, migrateOnStart: false, logLevel: 'silent', databasePoolSize: opts.pool, port: 0, host: '127.0.0.1' });
  const app = await buildApp({ config, logger: false, keyFor: async (kid) => (kid === 'bench' ? opts.publicKey : undefined) });
  await app.listen({ host: '127.0.0.1', port: 0 });
  process.send({ port: app.server.address().port });
  process.on('message', async (m) => {
    if (m === 'stop') {
      await app.close();
      process.exit(0);
    }
  });
}

/* ---------------------------------------------------------------- parent: the harness */

function percentile(sorted, p) {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN;
}

async function waitFor(what, probe, ms = 30_000) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await probe()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
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

function cannon(autocannon, opts) {
  return new Promise((resolve, reject) => {
    autocannon(opts, (err, result) => (err ? reject(err) : resolve(result)));
  });
}

async function main() {
  const a = args();
  const { Client, Pool } = require('pg');
  const { Redis } = require('ioredis');
  const autocannon = require('autocannon');
  const { createSigner } = require('fast-jwt');
  const { migrate } = require('@gdx/database');
  const { createEvent, streamKey } = require('@gdx/events');
  const { referenceData } = require('@gdx/codes');
  const { dataQueryDataSource } = require('../../services/data-query/dist/data-source');
  const { DatasetRegistry } = require('../../services/data-query/dist/datasets/dataset-registry');
  const { copyNdjsonIntoDataset } = require('../../services/data-query/dist/synthetic/copy-loader');
  const { personOf, writeNdjson, starterResources } = require('../../services/data-query/dist/synthetic/synthetic-data');

  const log = (...m) => console.log(`[${new Date().toISOString().slice(11, 19)}]`, ...m);
  const prefix = `bench:dq:${randomBytes(4).toString('hex')}:`;
  const url = databaseUrl(DB_NAME);

  log(`scratch database ${DB_NAME}, redis prefix ${prefix}`);
  const admin = new Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${DB_NAME} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${DB_NAME}`);
  await admin.end();
  await migrate(dataQueryDataSource(url, 2));

  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const sign = createSigner({ key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), algorithm: 'EdDSA', kid: 'bench', expiresIn: 3_600_000 });
  const providerUnitId = randomUUID();
  const consumerUnitId = randomUUID();
  const token = sign({ iss: 'gdx', aud: 'gdx-api', sub: randomUUID(), jti: randomUUID(), typ: 'client', unit: consumerUnitId, roles: ['client'] });

  const child = fork(__filename, ['--serve'], { execArgv: process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [], env: { ...process.env, BENCH_SERVER: JSON.stringify({ databaseUrl: url, prefix, pool: a.pool, publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString() }) } });
  const port = await new Promise((resolve, reject) => {
    child.once('message', (m) => resolve(m.port));
    child.once('exit', (c) => reject(new Error(`data-query exited with ${c}`)));
  });
  log(`data-query listening on ${port} (pid ${child.pid}, pool ${a.pool})`);

  const redis = new Redis(REDIS_URL);
  const pool = new Pool({ connectionString: url, max: a.pool, options: '-c search_path=data_query,public' });
  const resource = referenceData().resources.find((r) => r.code === CODE);
  const view = { code: CODE, name: resource.name, providerUnitId, items: resource.items, sharing: resource.sharing, methods: resource.methods, status: 'published', version: 1 };
  const xadd = (domain, type, subject, data) => redis.xadd(streamKey(prefix, domain), '*', 'event', JSON.stringify(createEvent(type, { actor: { kind: 'system' }, subject, data })));
  await xadd('resource', 'resource.published', CODE, view);
  await waitFor('the population table', async () => (await pool.query(`SELECT 1 FROM dataset WHERE code = $1`, [CODE])).rowCount === 1);

  const file = join(tmpdir(), `gdx-population-${a.rows}.ndjson`);
  if (!existsSync(file) || statSync(file).size === 0) {
    log(`generating ${a.rows} population rows → ${file}`);
    const t = Date.now();
    await writeNdjson(file, starterResources().find((r) => r.code === CODE), a.rows);
    log(`generated in ${((Date.now() - t) / 1000).toFixed(1)} s (${(statSync(file).size / 1e6).toFixed(0)} MB)`);
  }
  const registry = new DatasetRegistry(pool);
  await registry.reload(CODE);
  const loadStarted = Date.now();
  const client = await pool.connect();
  const loaded = await copyNdjsonIntoDataset(client, registry.get(CODE), file);
  client.release();
  const loadSeconds = (Date.now() - loadStarted) / 1000;
  log(`COPY loaded ${loaded} rows in ${loadSeconds.toFixed(1)} s (${Math.round(loaded / loadSeconds)} rows/s, validated)`);

  // A realistic grant: a few items, masking on, no row filter (the lookup is by identity number).
  const grant = { id: randomUUID(), consumerUnitId, providerUnitId, resourceCode: CODE, items: ['idNumber', 'name', 'sex', 'birthDate', 'regionCode'], rowFilter: null, modes: ['interface'], rateLimitPerSecond: 100000, dailyQuota: 100000000, validFrom: new Date(Date.now() - 86400000).toISOString(), validTo: new Date(Date.now() + 86400000).toISOString(), status: 'active', version: 1 };
  await xadd('grant', 'grant.issued', grant.id, grant);
  const path = `/api/v1/query/${encodeURIComponent(CODE)}`;
  const keyAt = () => personOf(Math.floor(Math.random() * a.rows)).idNumber;
  const probe = () => fetch(`http://127.0.0.1:${port}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ where: { idNumber: keyAt() } }) });
  await waitFor('the grant to reach data-query', async () => (await probe()).status === 200);
  const sample = await (await probe()).json();
  log('sample answer', JSON.stringify(sample));

  const request = { method: 'POST', path, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, setupRequest: (req) => ({ ...req, body: JSON.stringify({ where: { idNumber: keyAt() } }) }) };
  const cannonOpts = (duration) => ({ url: `http://127.0.0.1:${port}`, connections: a.connections, duration, requests: [request] });
  const pointSql = `SELECT id_number, name, sex, ethnicity, birth_date, region_code, household_address FROM data_query_rows.r_101001_0001 WHERE _deleted_at IS NULL AND id_number = $1`;

  log(`warm-up ${a.warmup} s each`);
  await cannon(autocannon, cannonOpts(a.warmup));
  await rawLoop(pool, pointSql, keyAt, a.connections, a.warmup);

  log(`measuring data-query: ${a.connections} connections, ${a.duration} s`);
  const dq = await cannon(autocannon, cannonOpts(a.duration));
  log(`measuring raw pg point lookups: ${a.connections} concurrent, pool ${a.pool}, ${a.duration} s`);
  const raw = await rawLoop(pool, pointSql, keyAt, a.connections, a.duration);
  const auditEvents = await redis.xlen(streamKey(prefix, 'query'));

  const result = {
    when: new Date().toISOString(),
    rows: loaded,
    connections: a.connections,
    durationSeconds: a.duration,
    poolSize: a.pool,
    dataQuery: { rps: dq.requests.average, requests: dq.requests.total, non2xx: dq.non2xx, errors: dq.errors, timeouts: dq.timeouts, p50: dq.latency.p50, p99: dq.latency.p99 },
    rawPg: { rps: raw.rps, requests: raw.requests, errors: raw.errors, p50: raw.p50, p99: raw.p99 },
    ratio: dq.requests.average / raw.rps,
    target: 0.4,
    auditEventsWritten: auditEvents,
    load: { rows: loaded, seconds: loadSeconds },
  };
  const f = (n) => (Number.isFinite(n) ? n.toFixed(2) : String(n));
  console.log('\n| path | req/s | p50 ms | p99 ms | errors |\n|---|---|---|---|---|');
  console.log(`| data-query POST /api/v1/query (JWT, grant, masking, audit XADD) | ${f(result.dataQuery.rps)} | ${f(result.dataQuery.p50)} | ${f(result.dataQuery.p99)} | ${result.dataQuery.non2xx + result.dataQuery.errors} |`);
  console.log(`| raw pg prepared point lookup | ${f(result.rawPg.rps)} | ${f(result.rawPg.p50)} | ${f(result.rawPg.p99)} | ${result.rawPg.errors} |`);
  console.log(`\nratio data-query / raw pg = ${result.ratio.toFixed(3)} (target ≥ ${result.target})\n`);
  const dir = join(__dirname, 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `query-${result.when.replace(/[:.]/g, '-')}.json`), `${JSON.stringify(result, null, 2)}\n`);

  child.send('stop');
  await new Promise((r) => child.once('exit', r));
  await pool.end();
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
  if (!process.argv.includes('--keep')) {
    const c = new Client({ connectionString: ADMIN_URL });
    await c.connect();
    await c.query(`DROP DATABASE IF EXISTS ${DB_NAME} WITH (FORCE)`);
    await c.end();
  }
}

if (process.argv.includes('--serve')) {
  serve().catch((err) => {
    console.error(err);
    process.exit(1);
  });
} else {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
