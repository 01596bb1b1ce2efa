#!/usr/bin/env node
'use strict';
/**
 * Issue 12's benchmark (design §9): a data-call bulk pull vs PostgreSQL's own COPY of the same slice.
 *
 *   npm run bench:data-call -- [--rows 1000000] [--rounds 5] [--keep 0]
 *
 * Scratch database, the gateway, data-query and request-approval as processes (their deployed node
 * flags, k8s/base), a client token of a real unit, the population table COPYed in, a data-call grant
 * with a row filter and masked items. Then alternating rounds of:
 *   (a) COPY (SELECT <granted columns> FROM … WHERE <row filter>) TO STDOUT through pg (pg-copy-streams);
 *   (b) GET /api/v1/data/101001%2F0001/records as NDJSON through the gateway (JWT, grant decision at the
 *       gateway and per chunk in data-query, masking and row filter in SQL, the gateway counting, hashing
 *       and signing the manifest), read to the end, uncompressed like (a);
 *   (c) the same pull straight from data-query, to show what the gateway's pass adds.
 * Reported: rows/s of each (median, spread) and (b)/(a) (target ≥ 0.7); the RSS of the gateway and of
 * data-query idle and at their peak during the pulls (sampled every 100 ms; target within +40 MB; run
 * with --rows 100000 and --rows 1000000 to see it flat); an incremental pull after 1 % of the rows
 * changed, as a share of the full pull's time (target ≤ 3 %). Results go to bench/data-call/results/.
 */
const { spawn } = require('node:child_process');
const { mkdirSync, mkdtempSync, writeFileSync, existsSync, statSync } = require('node:fs');
const { randomBytes } = require('node:crypto');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const net = require('node:net');
const { REDIS_URL, freshDatabase, waitFor, deployedNodeArgs, rssMiBOfPid, admin } = require('../lib/scratch');

const ROOT = join(__dirname, '..', '..');
const DB_NAME = 'gdx_bench_data_call';
const CODE = '101001/0001';
const ITEMS = ['idNumber', 'name', 'sex', 'birthDate', 'regionCode'];
const log = (...m) => console.log(`[${new Date().toISOString().slice(11, 19)}]`, ...m);

function args() {
  const a = { rows: 1_000_000, rounds: 5, keep: 0 };
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    const m = /^--([a-z]+)(?:=(.*))?$/.exec(argv[i]);
    if (m) a[m[1]] = Number(m[2] ?? argv[++i]);
  }
  return a;
}

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function copyOut(pool, sql) {
  const { to } = require('pg-copy-streams');
  const client = await pool.connect();
  const started = process.hrtime.bigint();
  let rows = 0;
  let bytes = 0;
  try {
    for await (const chunk of client.query(to(sql))) {
      bytes += chunk.length;
      for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) rows++;
    }
  } finally {
    client.release();
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { rows, bytes, seconds, rowsPerSecond: rows / seconds };
}

async function pull(base, token, since) {
  const path = `/api/v1/data/${encodeURIComponent(CODE)}/records${since ? `?since=${encodeURIComponent(since)}` : ''}`;
  const started = process.hrtime.bigint();
  // Uncompressed, as COPY's side is (fetch would ask for gzip by itself).
  const res = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${token}`, 'accept-encoding': 'identity' } });
  if (res.status !== 200) throw new Error(`pull answered ${res.status}: ${await res.text()}`);
  let bytes = 0;
  let tail = Buffer.alloc(0);
  for await (const chunk of res.body) {
    bytes += chunk.length;
    tail = Buffer.concat([tail, chunk]).subarray(-8192);
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const end = JSON.parse(tail.toString('utf8').trim().split('\n').pop())._end;
  if (!end?.complete) throw new Error(`pull did not complete: ${JSON.stringify(end)}`);
  const rows = end.rows + end.tombstones;
  return { rows, bytes, seconds, rowsPerSecond: rows / seconds, cursor: end.cursor, signed: typeof end.manifest === 'string' };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const spread = (xs) => `${Math.round(Math.min(...xs))}–${Math.round(Math.max(...xs))}`;

async function main() {
  const a = args();
  const { Pool } = require('pg');
  const { Redis } = require('ioredis');
  const { migrate } = require('@gdx/database');
  const { streamKey } = require('@gdx/events');
  const { createEvent } = require('@gdx/contracts');
  const { referenceData } = require('@gdx/codes');
  const { SERVICE_DATABASES } = require('@gdx/scripts');
  const { gatewayDataSource, seedIdentity, Unit } = require('@gdx/gateway');
  const { DatasetRegistry, copyNdjsonIntoDataset, writeNdjson, starterResources, starterResourceView } = require('@gdx/data-query/testing');

  const prefix = `bench:dc:${randomBytes(4).toString('hex')}:`;
  const url = await freshDatabase(DB_NAME);
  for (const s of SERVICE_DATABASES) await migrate(s.dataSource(url));
  const ds = gatewayDataSource(url, 2);
  await ds.initialize();
  const creds = await seedIdentity(
    ds,
    referenceData().units.filter((u) => ['OFFICE', 'GA', 'LZH'].includes(u.key)),
  );
  const units = Object.fromEntries((await ds.getRepository(Unit).find()).map((u) => [u.key, u.id]));
  await ds.destroy();

  const names = ['gateway', 'data-query', 'request-approval'];
  const ports = Object.fromEntries(await Promise.all(names.map(async (n) => [n, await freePort()])));
  const u = (n) => `http://127.0.0.1:${ports[n]}`;
  const keysDir = mkdtempSync(join(tmpdir(), 'gdx-bench-keys-'));
  const children = {};
  for (const name of names) {
    const profile = name !== 'request-approval' && process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [];
    children[name] = spawn(process.execPath, [...deployedNodeArgs(name), ...profile, join(ROOT, 'services', name, 'dist', 'server.js')], {
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'inherit'],
      env: {
        PATH: process.env.PATH,
        PORT: String(ports[name]),
        HOST: '127.0.0.1',
        DATABASE_URL: url,
        REDIS_URL,
        STREAM_PREFIX: prefix,
        MIGRATE_ON_START: 'false',
        LOG_LEVEL: 'warn',
        KEYS_DIR: keysDir,
        GENERATE_KEYS: 'true',
        JWKS_URL: `${u('gateway')}/.well-known/jwks.json`,
        GATEWAY_URL: u('gateway'),
        DATA_QUERY_URL: u('data-query'),
        REQUEST_APPROVAL_URL: u('request-approval'),
        CATALOGUE_URL: 'http://127.0.0.1:9',
        AUDIT_URL: 'http://127.0.0.1:9',
      },
    });
  }
  const stopAll = () => Object.values(children).forEach((c) => c.kill('SIGTERM'));
  process.on('exit', stopAll);
  for (const name of names) await waitFor(name, async () => (await fetch(`${u(name)}/health/ready`)).ok);
  log('services up', ports);

  const redis = new Redis(REDIS_URL);
  const pool = new Pool({ connectionString: url, max: 4, options: '-c search_path=data_query,public' });
  const xadd = (domain, type, subject, data) => redis.xadd(streamKey(prefix, domain), '*', 'event', JSON.stringify(createEvent(type, { actor: { kind: 'system' }, subject, data })));
  await xadd('resource', 'resource.published', CODE, starterResourceView(CODE, units.GA));
  await waitFor('the population table', async () => (await pool.query('SELECT 1 FROM dataset WHERE code = $1', [CODE])).rowCount === 1);
  const file = join(tmpdir(), `gdx-population-${a.rows}.ndjson`);
  if (!existsSync(file) || statSync(file).size === 0) {
    log(`generating ${a.rows} rows → ${file}`);
    await writeNdjson(
      file,
      starterResources().find((r) => r.code === CODE),
      a.rows,
    );
  }
  const registry = new DatasetRegistry(pool);
  await registry.reload(CODE);
  const client = await pool.connect();
  const loaded = await copyNdjsonIntoDataset(client, registry.get(CODE), file);
  client.release();
  await pool.query('ANALYZE data_query_rows.r_101001_0001');
  log(`loaded ${loaded} rows`);

  // A district's grant: masked identity numbers and names, the row filter over every region code (so both sides test it on every row).
  const regions = Object.keys(referenceData().regions);
  const grant = {
    id: '0190f000-0000-7000-8000-00000000c001',
    consumerUnitId: units.LZH,
    providerUnitId: units.GA,
    resourceCode: CODE,
    items: ITEMS,
    rowFilter: { all: [{ key: 'regionCode', op: 'in', value: regions }] },
    modes: ['data-call'],
    rateLimitPerSecond: 1000,
    dailyQuota: 1_000_000_000,
    validFrom: new Date(Date.now() - 86_400_000).toISOString(),
    validTo: new Date(Date.now() + 86_400_000).toISOString(),
    purpose: 'benchmark',
    requestId: '0190f000-0000-7000-8000-00000000c002',
    status: 'active',
    statusReason: null,
    version: 1,
  };
  await xadd('grant', 'grant.issued', grant.id, grant);
  const lzh = creds.clients.find((c) => c.unit === 'LZH');
  const { access_token: token } = await (
    await fetch(`${u('gateway')}/api/v1/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ grant_type: 'client_credentials', client_id: lzh.clientId, client_secret: lzh.clientSecret }),
    })
  ).json();
  await waitFor('the grant at the gateway and data-query', async () => {
    const res = await fetch(`${u('gateway')}/api/v1/data/${encodeURIComponent(CODE)}/records?since=${encodeURIComponent(Buffer.from(JSON.stringify([CODE, '1'])).toString('base64url'))}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    await res.arrayBuffer();
    return res.status === 200;
  });
  const copySql = `COPY (SELECT id_number, name, sex, birth_date, region_code FROM data_query_rows.r_101001_0001 WHERE _deleted_at IS NULL AND region_code = ANY('{${regions.join(',')}}'::text[])) TO STDOUT`;

  const rss = () => ({ gateway: rssMiBOfPid(children.gateway.pid), dataQuery: rssMiBOfPid(children['data-query'].pid) });
  const idle = rss();
  const peak = { ...idle };
  const sampler = setInterval(() => {
    const now = rss();
    peak.gateway = Math.max(peak.gateway, now.gateway);
    peak.dataQuery = Math.max(peak.dataQuery, now.dataQuery);
  }, 100);
  const copies = [];
  const viaGateway = [];
  const direct = [];
  let cursor;
  for (let round = 1; round <= a.rounds; round++) {
    const c = await copyOut(pool, copySql);
    const g = await pull(u('gateway'), token);
    const d = await pull(u('data-query'), token);
    copies.push(c);
    viaGateway.push(g);
    direct.push(d);
    cursor = g.cursor;
    log(
      `round ${round}: COPY ${c.rows} rows ${c.seconds.toFixed(2)} s (${Math.round(c.rowsPerSecond)}/s); through the gateway ${g.rows} rows ${g.seconds.toFixed(2)} s (${Math.round(g.rowsPerSecond)}/s, manifest ${g.signed ? 'signed' : 'MISSING'}); data-query alone ${Math.round(d.rowsPerSecond)}/s`,
    );
  }
  clearInterval(sampler);

  // 1 % of the rows change (their names), in one sequence as a batch would, then pulled incrementally through the gateway.
  const db = await pool.connect();
  await db.query('BEGIN');
  const { rows: seqRows } = await db.query(`UPDATE dataset SET change_seq = change_seq + 1, last_updated_at = now() WHERE code = $1 RETURNING change_seq`, [CODE]);
  const { rowCount: changed } = await db.query(`UPDATE data_query_rows.r_101001_0001 SET name = name || '改', _change_seq = $1, _updated_at = now() WHERE _row_id % 100 = 0`, [seqRows[0].change_seq]);
  await db.query('COMMIT');
  db.release();
  const incrementals = [];
  for (let round = 1; round <= a.rounds; round++) incrementals.push(await pull(u('gateway'), token, cursor));

  const ratios = viaGateway.map((g, i) => g.rowsPerSecond / copies[i].rowsPerSecond);
  const fullSeconds = median(viaGateway.map((p) => p.seconds));
  const incSeconds = median(incrementals.map((p) => p.seconds));
  const result = {
    when: new Date().toISOString(),
    command: `node bench/data-call/pull-bench.js ${process.argv.slice(2).join(' ')}`.trim(),
    rows: loaded,
    copy: { medianRowsPerSecond: median(copies.map((c) => c.rowsPerSecond)), rounds: copies },
    gateway: { medianRowsPerSecond: median(viaGateway.map((p) => p.rowsPerSecond)), rounds: viaGateway.map(({ cursor: _c, ...p }) => p) },
    dataQuery: { medianRowsPerSecond: median(direct.map((p) => p.rowsPerSecond)), rounds: direct.map(({ cursor: _c, ...p }) => p) },
    ratio: { median: median(ratios), rounds: ratios, target: 0.7 },
    rssMiB: { idle, peak, growth: { gateway: peak.gateway - idle.gateway, dataQuery: peak.dataQuery - idle.dataQuery }, targetGrowth: 40 },
    incremental: {
      changedRows: changed,
      medianSeconds: incSeconds,
      fullMedianSeconds: fullSeconds,
      share: incSeconds / fullSeconds,
      target: 0.03,
      rounds: incrementals.map(({ cursor: _c, ...p }) => p),
    },
  };
  console.log('\n| path | rows/s (median) | spread | MB/s |\n|---|---|---|---|');
  const row = (name, xs) =>
    console.log(`| ${name} | ${Math.round(median(xs.map((x) => x.rowsPerSecond)))} | ${spread(xs.map((x) => x.rowsPerSecond))} | ${(median(xs.map((x) => x.bytes / x.seconds)) / 1e6).toFixed(1)} |`);
  row('(a) COPY … TO STDOUT through pg', copies);
  row('(b) NDJSON pull through the gateway', viaGateway);
  row('(c) NDJSON pull straight from data-query', direct);
  console.log(
    `\n(b)/(a): median ${result.ratio.median.toFixed(3)} (rounds ${ratios.map((r) => r.toFixed(3)).join(', ')}; target ≥ 0.7). RSS MiB idle → peak: gateway ${idle.gateway} → ${peak.gateway} (+${result.rssMiB.growth.gateway}), data-query ${idle.dataQuery} → ${peak.dataQuery} (+${result.rssMiB.growth.dataQuery}); target ≤ +40. Incremental after ${changed} changed rows: ${(incSeconds * 1000).toFixed(0)} ms = ${(result.incremental.share * 100).toFixed(2)} % of the full pull (target ≤ 3 %).`,
  );
  const dir = join(__dirname, 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `pull-${result.when.replace(/[:.]/g, '-')}.json`), `${JSON.stringify(result, null, 2)}\n`);
  stopAll();
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
  await pool.end();
  if (!a.keep) await admin(`DROP DATABASE IF EXISTS ${DB_NAME} WITH (FORCE)`).catch(() => undefined);
  setTimeout(() => process.exit(0), 1000).unref();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
