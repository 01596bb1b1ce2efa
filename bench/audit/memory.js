'use strict';
/**
 * The audit service's resident memory under sustained ingestion (design §9: each
 * service ≤ 200 MB under load). Unlike ingest.js, the service runs as its own
 * process, started as k8s and `npm start` start it (the `node` flags of
 * k8s/base/audit.yaml), so nothing of the benchmark's counts against it.
 *
 *   npm run build && node bench/audit/memory.js
 *
 * BENCH_NODE_ARGS_AUDIT="--flag …" tries other flags.
 * BENCH_EVENTS (default 300000) events are XADDed by this process in batches as fast
 * as the service takes them; the service's RSS (VmRSS) is sampled every 50 ms.
 */
const { spawn } = require('node:child_process');
const { randomBytes } = require('node:crypto');
const { mkdtempSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const { Redis } = require('ioredis');
const { migrate } = require('@gdx/database');
const { auditDataSource } = require('@gdx/audit');
const { REDIS_URL, dbUrl, admin, waitFor, cpuOfPid, deployedNodeArgs, rssMiBOfPid } = require('../lib/scratch');
const { makeEvents, toWire, xaddBatch } = require('./ingest');

const N = Number(process.env.BENCH_EVENTS ?? 300_000);
const ROOT = join(__dirname, '..', '..');

async function main() {
  const name = `gdx_bench_auditmem_${randomBytes(4).toString('hex')}`;
  await admin(`CREATE DATABASE ${name}`);
  const url = dbUrl(name);
  const prefix = `bench:${randomBytes(4).toString('hex')}:`;
  const redis = new Redis(REDIS_URL);
  let child;
  try {
    await migrate(auditDataSource(url, 2));
    // The flags k8s runs it with (or BENCH_NODE_ARGS_AUDIT for an experiment).
    const args = [...deployedNodeArgs('audit'), 'services/audit/dist/server.js'];
    const port = 20000 + Math.floor(Math.random() * 20000);
    // Tuning knobs of the service, passed through when set.
    const tuning = Object.fromEntries(['AUDIT_BATCH_SIZE', 'AUDIT_CONSUMERS', 'AUDIT_CHAINS'].filter((k) => process.env[k]).map((k) => [k, process.env[k]]));
    child = spawn(process.execPath, args, {
      cwd: ROOT,
      stdio: ['ignore', process.env.BENCH_CHILD_STDOUT ? 'inherit' : 'ignore', 'inherit'],
      env: {
        PATH: process.env.PATH,
        PORT: String(port),
        HOST: '127.0.0.1',
        DATABASE_URL: url,
        REDIS_URL,
        STREAM_PREFIX: prefix,
        MIGRATE_ON_START: 'false',
        LOG_LEVEL: 'warn',
        AUDIT_KEYS_DIR: mkdtempSync(join(tmpdir(), 'gdx-bench-audit-keys-')),
        JWKS_URL: 'http://127.0.0.1:9/.well-known/jwks.json',
        GATEWAY_URL: 'http://127.0.0.1:9',
        CHECKPOINT_INTERVAL_MS: '0',
        ...tuning,
      },
    });
    const base = `http://127.0.0.1:${port}`;
    await waitFor('the audit service', async () => (await fetch(`${base}/health/ready`)).ok);
    const written = async () => Number(/^audit_records_written_total(?:\{[^}]*\})? (\d+)/m.exec(await (await fetch(`${base}/metrics`)).text())?.[1] ?? 0);
    const idle = rssMiBOfPid(child.pid);
    let peak = idle;
    const samples = [];
    const sampler = setInterval(() => {
      const r = rssMiBOfPid(child.pid);
      if (Number.isNaN(r)) return;
      peak = Math.max(peak, r);
      samples.push(r);
    }, 50);
    const cpu0 = cpuOfPid(child.pid);
    const started = process.hrtime.bigint();
    // Published in slices so the stream never holds more than ~50,000 unread events (a producer at the service's pace).
    for (let i = 0; i < N; i += 10_000) {
      const events = toWire(makeEvents(Math.min(10_000, N - i)));
      for (let j = 0; j < events.length; j += 1000) await xaddBatch(redis, prefix, events.slice(j, j + 1000));
      while (i + events.length - (await written()) > 50_000) await new Promise((r) => setTimeout(r, 20));
    }
    while ((await written()) < N) await new Promise((r) => setTimeout(r, 20));
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    clearInterval(sampler);
    const cpu = cpuOfPid(child.pid) - cpu0;
    samples.sort((a, b) => a - b);
    const out = {
      when: new Date().toISOString(),
      events: N,
      nodeArgs: args.slice(0, -1),
      perSecond: Math.round(N / seconds),
      serviceCpuMicrosPerEvent: +(cpu / N).toFixed(1),
      rssMiB: { idle: Math.round(idle), median: Math.round(samples[Math.floor(samples.length / 2)]), p99: Math.round(samples[Math.floor(samples.length * 0.99)]), peak: Math.round(peak) },
      target: { rssMiB: 200, met: peak <= 200 },
    };
    console.log(JSON.stringify(out, null, 2));
  } finally {
    child?.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 1000));
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
    await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
