#!/usr/bin/env node
'use strict';
/**
 * Issue 5 / design §9: the same interface point query on the 1,000,000-row population
 * table, measured in one run with autocannon:
 *   (a) straight to data-query,
 *   (b) through nginx as a plain reverse proxy in front of the same data-query,
 *   (c) through the gateway (JWT, grant decision, Redis rate limit and quota, then
 *       data-query's own JWT and grant check, row filter, masking and audit XADD),
 * plus the added p99 of (c) over (b) at half of (c)'s throughput, and pgbench -S -M
 * prepared at the same concurrency as a yardstick for the database itself.
 *
 *   npm run build && node bench/query/gateway-vs-nginx.js [--rows 1000000] [--connections 32] [--duration 20]
 *
 * Installs Debian's nginx if it is missing. Every target is on 127.0.0.1.
 */
const { spawn, spawnSync, execFileSync } = require('node:child_process');
const { existsSync, mkdirSync, mkdtempSync, statSync, writeFileSync } = require('node:fs');
const { randomBytes } = require('node:crypto');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const net = require('node:net');

const ROOT = join(__dirname, '..', '..');
const { REDIS_URL, freshDatabase, waitFor, cpuByCommand, cpuSpent, cpuOfPid, cpuSample, busyShare, deployedNodeArgs, rssMiBOfPid } = require('../lib/scratch');
const DB_NAME = 'gdx_bench_query';
const CODE = '101001/0001';
const log = (...m) => console.log(`[${new Date().toISOString().slice(11, 19)}]`, ...m);

function args() {
  const a = { rows: 1_000_000, connections: 32, duration: 20, warmup: 5, quick: 0 };
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

function cannon(opts) {
  const autocannon = require('autocannon');
  return new Promise((resolve, reject) => autocannon(opts, (err, r) => (err ? reject(err) : resolve(r))));
}

function summary(r) {
  return { rps: Math.round(r.requests.average), p50: r.latency.p50, p99: r.latency.p99, non2xx: r.non2xx, errors: r.errors, timeouts: r.timeouts };
}

function ensureNginx() {
  if (existsSync('/usr/sbin/nginx')) return '/usr/sbin/nginx';
  log('installing Debian nginx (apt-get install nginx-light)');
  spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
  const r = spawnSync('apt-get', ['install', '-y', '-qq', 'nginx-light'], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  if (r.status !== 0 || !existsSync('/usr/sbin/nginx')) throw new Error('nginx could not be installed');
  return '/usr/sbin/nginx';
}

async function main() {
  const a = args();
  const { Pool } = require('pg');
  const { Redis } = require('ioredis');
  const { migrate } = require('@gdx/database');
  const { streamKey } = require('@gdx/events');
  const { createEvent } = require('@gdx/contracts');
  const { starterResourceView } = require('@gdx/data-query/testing');
  const { referenceData } = require('@gdx/codes');
  const { SERVICE_DATABASES } = require('@gdx/scripts');
  const { gatewayDataSource, seedIdentity, Unit } = require('@gdx/gateway');
  const { DatasetRegistry, copyNdjsonIntoDataset, personOf, writeNdjson, starterResources } = require('@gdx/data-query/testing');

  const nginxBin = ensureNginx();
  const prefix = `bench:q:${randomBytes(4).toString('hex')}:`;
  const url = await freshDatabase(DB_NAME);
  for (const s of SERVICE_DATABASES) await migrate(s.dataSource(url));

  const ds = gatewayDataSource(url, 2);
  await ds.initialize();
  const creds = await seedIdentity(
    ds,
    referenceData().units.filter((u) => ['OFFICE', 'GA', 'RS'].includes(u.key)),
  );
  const units = Object.fromEntries((await ds.getRepository(Unit).find()).map((u) => [u.key, u.id]));
  await ds.destroy();

  const ports = { gateway: await freePort(), 'data-query': await freePort(), 'request-approval': await freePort(), nginx: await freePort() };
  const u = (n) => `http://127.0.0.1:${ports[n]}`;
  const keysDir = mkdtempSync(join(tmpdir(), 'gdx-bench-keys-'));
  const children = [];
  // Tuning knobs of the services, passed through when set (to measure their effect).
  const tuning = Object.fromEntries(['QUERY_BATCHES_IN_FLIGHT', 'QUERY_BATCH_MAX_CALLS', 'AUDIT_IN_FLIGHT', 'POINT_LOOKUPS_IN_FLIGHT'].filter((k) => process.env[k]).map((k) => [k, process.env[k]]));
  for (const name of ['gateway', 'data-query', 'request-approval']) {
    // BENCH_PROFILE=dir writes CPU profiles of the gateway and data-query (inspect it to see where its time goes).
    const profile = name !== 'request-approval' && process.env.BENCH_PROFILE ? ['--cpu-prof', '--cpu-prof-interval=200', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [];
    const child = spawn(process.execPath, [...deployedNodeArgs(name), ...profile, join(ROOT, 'services', name, 'dist', 'server.js')], {
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
        JWKS_URL: `${u('gateway')}/.well-known/jwks.json`,
        GATEWAY_URL: u('gateway'),
        DATA_QUERY_URL: u('data-query'),
        REQUEST_APPROVAL_URL: u('request-approval'),
        CATALOGUE_URL: 'http://127.0.0.1:9',
        AUDIT_URL: 'http://127.0.0.1:9',
        ...tuning,
      },
    });
    children.push(child);
  }
  const stopAll = () => children.forEach((c) => c.kill('SIGTERM'));
  process.on('exit', stopAll);
  for (const name of ['gateway', 'data-query', 'request-approval']) await waitFor(name, async () => (await fetch(`${u(name)}/health/ready`)).ok);
  log('services up', ports);

  const redis = new Redis(REDIS_URL);
  const pool = new Pool({ connectionString: url, max: 4, options: '-c search_path=data_query,public' });
  // Stops the services and takes this run's keys out of Redis (the audit stream holds every call).
  const finish = async () => {
    stopAll();
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
    await pool.end();
    setTimeout(() => process.exit(0), 2000).unref();
  };
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

  // The grant request-approval would issue after the provider's and the office's approval.
  const grant = {
    id: '0190f000-0000-7000-8000-00000000b001',
    consumerUnitId: units.RS,
    providerUnitId: units.GA,
    resourceCode: CODE,
    items: ['idNumber', 'name', 'sex', 'birthDate', 'regionCode'],
    rowFilter: { all: [{ key: 'regionCode', op: 'in', value: Object.keys(referenceData().regions) }] },
    modes: ['interface'],
    rateLimitPerSecond: 1_000_000,
    dailyQuota: 1_000_000_000,
    validFrom: new Date(Date.now() - 86_400_000).toISOString(),
    validTo: new Date(Date.now() + 86_400_000).toISOString(),
    purpose: 'benchmark',
    requestId: '0190f000-0000-7000-8000-00000000b002',
    status: 'active',
    statusReason: null,
    version: 1,
  };
  await xadd('grant', 'grant.issued', grant.id, grant);
  const rs = creds.clients.find((c) => c.unit === 'RS');
  const tok = await (
    await fetch(`${u('gateway')}/api/v1/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ grant_type: 'client_credentials', client_id: rs.clientId, client_secret: rs.clientSecret }),
    })
  ).json();
  const headers = { authorization: `Bearer ${tok.access_token}`, 'content-type': 'application/json' };
  const path = `/api/v1/query/${encodeURIComponent(CODE)}`;
  const keyAt = () => personOf(Math.floor(Math.random() * a.rows)).idNumber;
  const ask = (base) => fetch(`${base}${path}`, { method: 'POST', headers, body: JSON.stringify({ where: { idNumber: keyAt() }, items: ['idNumber', 'name', 'sex'] }) });

  const nginxDir = mkdtempSync(join(tmpdir(), 'gdx-nginx-'));
  mkdirSync(join(nginxDir, 'logs'));
  writeFileSync(
    join(nginxDir, 'nginx.conf'),
    `worker_processes 1;
daemon off;
error_log ${nginxDir}/logs/error.log warn;
pid ${nginxDir}/nginx.pid;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${nginxDir}/body;
  proxy_temp_path ${nginxDir}/proxy;
  upstream dq { server 127.0.0.1:${ports['data-query']}; keepalive 128; }
  server {
    listen 127.0.0.1:${ports.nginx};
    location / {
      proxy_pass http://dq;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header X-Forwarded-For $remote_addr;
    }
  }
}
`,
  );
  const nginx = spawn(nginxBin, ['-p', nginxDir, '-c', join(nginxDir, 'nginx.conf')], { stdio: 'inherit' });
  children.push(nginx);
  await waitFor('nginx', async () => (await ask(u('nginx'))).status === 200);
  await waitFor('the grant at the gateway and data-query', async () => (await ask(u('gateway'))).status === 200 && (await ask(u('data-query'))).status === 200);
  log('sample through the gateway:', JSON.stringify(await (await ask(u('gateway'))).json()));

  const request = { method: 'POST', path, headers, setupRequest: (req) => ({ ...req, body: JSON.stringify({ where: { idNumber: keyAt() }, items: ['idNumber', 'name', 'sex'] }) }) };
  // CPU per request of every part, so a ratio can be explained and not only reported.
  const pids = { gateway: children[0].pid, 'data-query': children[1].pid };
  const cpuNow = () => ({
    own: { ...Object.fromEntries(Object.entries(pids).map(([n, pid]) => [n, cpuOfPid(pid)])), autocannon: process.cpuUsage().user + process.cpuUsage().system },
    others: cpuByCommand(['postgres', 'redis-server', 'nginx']),
  });
  const spent = (before, after) => ({
    ...Object.fromEntries(Object.keys(after.own).map((k) => [k, after.own[k] - before.own[k]])),
    postgres: 0,
    'redis-server': 0,
    nginx: 0,
    ...cpuSpent(before.others, after.others),
  });
  const cpu = {};
  // Resident memory of the two services under load (design §9: ≤ 200 MB each).
  const rssPeakMiB = { gateway: 0, 'data-query': 0 };
  const rssSampler = setInterval(() => {
    for (const [n, pid] of Object.entries(pids)) {
      const rss = rssMiBOfPid(pid);
      if (!Number.isNaN(rss)) rssPeakMiB[n] = Math.max(rssPeakMiB[n], Math.round(rss));
    }
  }, 200);
  rssSampler.unref();
  const run = async (base, duration, extra = {}, name) => {
    const before = cpuNow();
    const machineBefore = cpuSample();
    const r = await cannon({ url: base, connections: a.connections, duration, requests: [request], ...extra });
    if (name) {
      const used = spent(before, cpuNow());
      const n = r.requests.total;
      const per = { ...Object.fromEntries(Object.keys(used).map((k) => [k, used[k] / n])), machineBusyPercent: busyShare(machineBefore, cpuSample()) * 100 };
      const prev = cpu[name];
      cpu[name] = Object.fromEntries(Object.keys(per).map((k) => [k, Math.round(prev ? (prev[k] + per[k]) / 2 : per[k])]));
    }
    return r;
  };
  const targets = [
    ['a direct', u('data-query')],
    ['b nginx', u('nginx')],
    ['c gateway', u('gateway')],
  ];
  for (const [, base] of targets) await run(base, a.warmup);
  const results = {};
  // Interleaved twice so drift on a shared machine hits every target alike.
  for (let round = 0; round < 2; round++) {
    for (const [name, base] of targets) {
      log(`measuring ${name} (round ${round + 1})`);
      const r = summary(await run(base, a.duration / 2, {}, name));
      const prev = results[name];
      results[name] = prev
        ? {
            rps: Math.round((prev.rps + r.rps) / 2),
            p50: Math.max(prev.p50, r.p50),
            p99: Math.max(prev.p99, r.p99),
            non2xx: prev.non2xx + r.non2xx,
            errors: prev.errors + r.errors,
            timeouts: prev.timeouts + r.timeouts,
          }
        : r;
    }
  }
  if (a.quick) {
    // --quick 1: the three targets only (while working on the gateway), with the mean time
    // each service spent per request by route, to see where the latency of (c) goes.
    const meanMs = async (name) => {
      const text = await (await fetch(`${u(name)}/metrics`)).text();
      const out = {};
      for (const m of text.matchAll(/^http_request_duration_seconds_(sum|count)\{[^}]*route="([^"]+)"[^}]*\} ([\d.e+-]+)$/gm)) {
        out[m[2]] ??= { sum: 0, count: 0 };
        out[m[2]][m[1]] += Number(m[3]);
      }
      return Object.fromEntries(
        Object.entries(out)
          .filter(([, v]) => v.count > 1000)
          .map(([route, v]) => [route, +((v.sum / v.count) * 1000).toFixed(2)]),
      );
    };
    console.log(
      JSON.stringify(
        {
          results,
          cpuMicrosecondsPerRequest: cpu,
          rssPeakMiB,
          meanMsByRoute: { gateway: await meanMs('gateway'), 'data-query': await meanMs('data-query') },
          'c/b': +(results['c gateway'].rps / results['b nginx'].rps).toFixed(3),
        },
        null,
        1,
      ),
    );
    return finish();
  }
  const half = Math.max(1, Math.floor(results['c gateway'].rps / 2));
  log(`half load: ${half} req/s through nginx and the gateway`);
  const halfB = summary(await run(u('nginx'), a.duration / 2, { overallRate: half }));
  const halfC = summary(await run(u('gateway'), a.duration / 2, { overallRate: half }));

  let pgbench = null;
  try {
    log('pgbench -S -M prepared (scale 10 = 1,000,000 accounts)');
    execFileSync('pgbench', ['-i', '-q', '-s', '10', '-h', '127.0.0.1', '-U', 'postgres', DB_NAME], { stdio: 'ignore' });
    const out = execFileSync('pgbench', [
      '-S',
      '-M',
      'prepared',
      '-c',
      String(a.connections),
      '-j',
      '2',
      '-T',
      String(Math.round(a.duration / 2)),
      '-h',
      '127.0.0.1',
      '-U',
      'postgres',
      DB_NAME,
    ]).toString();
    pgbench = Number(/tps = ([\d.]+)/.exec(out)?.[1]);
  } catch (err) {
    log('pgbench failed', err.message);
  }

  const out = {
    when: new Date().toISOString(),
    rows: loaded,
    connections: a.connections,
    durationSeconds: a.duration,
    results,
    cpuMicrosecondsPerRequest: cpu,
    rssPeakMiB,
    ratios: {
      'c/b': +(results['c gateway'].rps / results['b nginx'].rps).toFixed(3),
      'c/a': +(results['c gateway'].rps / results['a direct'].rps).toFixed(3),
      'a/pgbench': pgbench ? +(results['a direct'].rps / pgbench).toFixed(3) : null,
    },
    halfLoad: { rate: half, nginx: halfB, gateway: halfC, addedP99Ms: +(halfC.p99 - halfB.p99).toFixed(2) },
    pgbenchSelectOnlyTps: pgbench,
    auditEvents: await redis.xlen(streamKey(prefix, 'query')),
  };
  console.log(JSON.stringify(out, null, 2));
  mkdirSync(join(__dirname, 'results'), { recursive: true });
  writeFileSync(join(__dirname, 'results', `gateway-vs-nginx-${out.when.replace(/[:.]/g, '-')}.json`), JSON.stringify(out, null, 2));
  await finish();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
