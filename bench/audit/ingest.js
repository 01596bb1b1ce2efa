'use strict';
/**
 * Audit ingestion benchmark (design §9: ≥ 20,000 events/s persisted and chained).
 *
 *   npx tsc -b services/audit && node bench/audit/ingest.js
 *
 * In one run, against the same PostgreSQL and Redis:
 *   (a) baseline: a raw loop that XADDs a batch of events and INSERTs the same batch
 *       into a plain table (one multi-row INSERT per batch, no chain, no dedupe);
 *   (b) the audit service: the same kind and number of events XADDed to the
 *       platform streams by a child process (as the gateway and services publish
 *       from their own processes) and persisted, deduplicated and hash-chained by
 *       the real consumer-group readers of services/audit (buildApp), timed from
 *       the first XADD until the last record is committed.
 * Prints events/s of both and the ratio b/a, the CPU each path spent per event (this
 * process, and PostgreSQL's backends read from /proc: useful when other work shares
 * the machine and wall-clock rates swing), then verifies the chains it wrote.
 *
 * Settings (environment): BENCH_EVENTS (default 100000), BENCH_BATCH (1000),
 * BENCH_DATABASE_URL (postgres://postgres@127.0.0.1:5432/postgres, an admin URL:
 * a scratch database is created and dropped), BENCH_REDIS_URL (redis://127.0.0.1:6379),
 * AUDIT_CONSUMERS (2), AUDIT_CHAINS (8), BENCH_SKIP_BASELINE=1 (run (b) only, for profiling),
 * BENCH_ROLLUPS=0 and BENCH_INSPECTION=0 (the assessment rollups, the inspection consumer group:
 * both on by default, as deployed).
 * `npm run bench:audit` runs it with the young-generation size the service is deployed
 * with (k8s/base/audit.yaml): node --max-semi-space-size=32 bench/audit/ingest.js. The
 * deployed old-generation cap is not applied here: this process also holds the
 * baseline's events and reads every record back to verify them. bench/audit/memory.js
 * runs the service as its own process with exactly the deployed flags.
 */
const { randomBytes, randomUUID } = require('node:crypto');
const { mkdtempSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const { Client } = require('pg');
const { Redis } = require('ioredis');
const { migrate } = require('@gdx/database');
const { streamKey } = require('@gdx/events');
// Loose shapes on purpose: the trail keeps whatever reaches it, declared or not.
const { untypedEvent: createEvent } = require('@gdx/contracts');
const { buildApp, loadAuditConfig, auditDataSource } = require('@gdx/audit');
const { AuditRecordRepository, CheckpointRepository, AuditKeyStore, VerificationService } = require('@gdx/audit/testing');

const N = Number(process.env.BENCH_EVENTS ?? 100_000);
const BATCH = Number(process.env.BENCH_BATCH ?? 1000);
const { REDIS_URL, dbUrl, admin, cpuByCommand, cpuSpent } = require('../lib/scratch');
const CONSUMERS = Number(process.env.AUDIT_CONSUMERS ?? 2);
const CHAINS = Number(process.env.AUDIT_CHAINS ?? 8);

/** CPU seconds used so far by the PostgreSQL backends of a database (Linux /proc; 0 where unreadable). */
async function backendCpu(url) {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    const { rows } = await c.query('SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()');
    const out = new Map();
    for (const { pid } of rows) {
      try {
        const fields = require('node:fs').readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
        out.set(pid, (Number(fields[11]) + Number(fields[12])) / 100);
      } catch {
        // not on Linux, or the backend is gone
      }
    }
    return out;
  } finally {
    await c.end();
  }
}

function cpuDelta(before, after) {
  let total = 0;
  for (const [pid, t] of after) total += t - (before.get(pid) ?? 0);
  return total;
}

/** What the gateway and data-query emit for each call: the bulk of the trail. */
function makeEvents(n) {
  const units = Array.from({ length: 20 }, () => randomUUID());
  const grants = Array.from({ length: 200 }, () => randomUUID());
  const types = ['query.executed', 'query.executed', 'query.executed', 'query.denied', 'data.pulled', 'auth.token_issued', 'grant.issued', 'request.filed'];
  return Array.from({ length: n }, (_, i) => {
    const type = types[i % types.length];
    const unitId = units[i % units.length];
    return createEvent(type, {
      actor: { kind: 'client', unitId, clientId: randomUUID() },
      subject: `1/01/0${i % 9}/0001`,
      data: {
        resourceCode: `1/01/0${i % 9}/0001`,
        grantId: grants[i % grants.length],
        providerUnitId: units[(i + 7) % units.length],
        route: '/api/v1/query/{resourceCode}',
        mode: 'interface',
        items: ['xm', 'sfzh', 'xb', 'csrq'],
        rowCount: i % 3,
        result: type === 'query.denied' ? 'denied' : 'allowed',
        latencyMs: 1 + (i % 40) / 10,
        requestId: randomUUID(),
        ip: `10.1.${i % 250}.${i % 200}`,
        purpose: '社会救助对象资格核验',
      },
    });
  });
}

/**
 * Events as the load generator sends them: serialised before the clock starts, so that
 * on a two-core machine the generator takes as little CPU from the system under test as
 * it can (both paths use the same wire form).
 */
function toWire(events) {
  return events.map((e) => ({ domain: e.type.split('.')[0], text: JSON.stringify(e) }));
}

function xaddBatch(redis, prefix, wire) {
  const p = redis.pipeline();
  for (const w of wire) p.xadd(streamKey(prefix, w.domain), '*', 'event', w.text);
  return p.exec();
}

async function baseline(url, redis) {
  const events = toWire(makeEvents(N));
  const c = new Client({ connectionString: url });
  await c.connect();
  await c.query('CREATE TABLE bench_raw (id uuid PRIMARY KEY, type text NOT NULL, occurred_at timestamptz NOT NULL, envelope jsonb NOT NULL)');
  const prefix = `bench:${randomBytes(4).toString('hex')}:raw:`;
  const pgBefore = await backendCpu(url);
  const cpuBefore = process.cpuUsage();
  const started = process.hrtime.bigint();
  for (let i = 0; i < events.length; i += BATCH) {
    const batch = events.slice(i, i + BATCH);
    await xaddBatch(redis, prefix, batch);
    await c.query(
      `INSERT INTO bench_raw (id, type, occurred_at, envelope)
       SELECT (e->>'id')::uuid, e->>'type', (e->>'occurredAt')::timestamptz, e FROM jsonb_array_elements($1::jsonb) AS e`,
      [`[${batch.map((w) => w.text).join(',')}]`],
    );
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = process.cpuUsage(cpuBefore);
  const pgSeconds = cpuDelta(pgBefore, await backendCpu(url));
  const { rows } = await c.query('SELECT count(*)::int AS n FROM bench_raw');
  await c.end();
  await deleteStreams(redis, prefix);
  if (rows[0].n !== events.length) throw new Error(`baseline wrote ${rows[0].n} of ${events.length}`);
  return { events: events.length, seconds, perSecond: events.length / seconds, nodeCpuMicrosPerEvent: (cpu.user + cpu.system) / events.length, pgCpuMicrosPerEvent: (pgSeconds * 1e6) / events.length };
}

async function deleteStreams(redis, prefix) {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
}

/**
 * The publisher of (b) runs in a child process, as the gateway and the other
 * services do in production: the audit service's process does only its own work.
 */
function startPublisher(prefix) {
  const { fork } = require('node:child_process');
  const child = fork(__filename, ['--publish', prefix], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const message = (kind) =>
    new Promise((resolve, reject) => {
      const onMessage = (m) => {
        if (m.kind === kind) {
          child.off('message', onMessage);
          resolve(m);
        }
      };
      child.on('message', onMessage);
      child.once('exit', (code) => {
        if (code) reject(new Error(`publisher exited with ${code}`));
      });
    });
  return {
    pid: child.pid,
    ready: message('ready'),
    go: () => {
      child.send({ kind: 'go' });
      return message('published');
    },
  };
}

async function publisherMain(prefix) {
  const redis = new Redis(REDIS_URL);
  const events = toWire(makeEvents(N));
  process.send({ kind: 'ready' });
  await new Promise((resolve) => process.once('message', resolve));
  const started = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  for (let i = 0; i < events.length; i += BATCH) await xaddBatch(redis, prefix, events.slice(i, i + BATCH));
  const used = process.cpuUsage(cpu);
  process.send({ kind: 'published', seconds: Number(process.hrtime.bigint() - started) / 1e9, cpuMicros: used.user + used.system });
  redis.disconnect();
  process.disconnect();
}

async function auditIngestion(url, redis) {
  const events = { length: N }; // the child process makes and publishes them
  const prefix = `bench:${randomBytes(4).toString('hex')}:`;
  const keysDir = mkdtempSync(join(tmpdir(), 'gdx-bench-audit-keys-'));
  const config = loadAuditConfig(
    {},
    {
      databaseUrl: url,
      redisUrl: REDIS_URL,
      streamPrefix: prefix,
      migrateOnStart: false,
      logLevel: 'silent',
      databasePoolSize: CONSUMERS + 4,
      auditKeysDir: keysDir,
      auditConsumers: CONSUMERS,
      auditChains: CHAINS,
      auditBatchSize: BATCH,
      checkpointIntervalMs: 0,
      // What else the service keeps as records arrive (issue 15): both on as deployed; BENCH_ROLLUPS=0 / BENCH_INSPECTION=0 to leave one out.
      assessmentRollups: process.env.BENCH_ROLLUPS !== '0',
      inspection: process.env.BENCH_INSPECTION !== '0',
    },
  );
  const app = await buildApp({ config, logger: false, keyFor: async () => undefined });
  await app.ready();
  const written = app.metrics.getSingleMetric('audit_records_written_total');
  const count = async () => (await written.get()).values[0]?.value ?? 0;
  const publisher = startPublisher(prefix);
  // Let the readers create their groups and block on the streams, and the publisher make its events, before the clock starts.
  await Promise.all([publisher.ready, new Promise((r) => setTimeout(r, 500))]);
  const pgBefore = await backendCpu(url);
  const redisBefore = cpuByCommand(['redis-server']);
  const started = process.hrtime.bigint();
  const cpuBefore = process.cpuUsage();
  const { seconds: published, cpuMicros: publisherCpu } = await publisher.go();
  while ((await count()) < events.length) await new Promise((r) => setTimeout(r, 5));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = process.cpuUsage(cpuBefore);
  const pgSeconds = cpuDelta(pgBefore, await backendCpu(url));
  const redisCpu = cpuSpent(redisBefore, cpuByCommand(['redis-server']))['redis-server'] ?? 0;
  await app.close();
  await deleteStreams(redis, prefix);

  const ds = auditDataSource(url, 2);
  await ds.initialize();
  const [{ n }] = await ds.query('SELECT count(*)::int AS n FROM audit_record');
  const chains = await ds.query('SELECT chain, count(*)::int AS n FROM audit_record GROUP BY chain ORDER BY chain');
  const vStart = process.hrtime.bigint();
  const report = await new VerificationService(new AuditRecordRepository(ds), new CheckpointRepository(ds), new AuditKeyStore(keysDir, false).load()).verify();
  const verifySeconds = Number(process.hrtime.bigint() - vStart) / 1e9;
  await ds.destroy();
  rmSync(keysDir, { recursive: true, force: true });
  if (n !== events.length) throw new Error(`audit wrote ${n} of ${events.length}`);
  if (!report.ok) throw new Error(`the chains do not verify: ${JSON.stringify(report.firstProblem)}`);
  return {
    events: n,
    seconds,
    perSecond: n / seconds,
    publishSeconds: published,
    serviceCpuMicrosPerEvent: (cpu.user + cpu.system) / n,
    pgCpuMicrosPerEvent: (pgSeconds * 1e6) / n,
    redisCpuMicrosPerEvent: redisCpu / n,
    publisherCpuMicrosPerEvent: publisherCpu / n,
    chains: chains.map((c) => c.n),
    verifiedPerSecond: n / verifySeconds,
  };
}

async function main() {
  // Other work on the machine shows here; both paths share whatever is left.
  const loadAtStart = require('node:os')
    .loadavg()
    .map((x) => +x.toFixed(2));
  const name = `gdx_bench_audit_${randomBytes(4).toString('hex')}`;
  await admin(`CREATE DATABASE ${name}`);
  const url = dbUrl(name);
  const redis = new Redis(REDIS_URL);
  try {
    await migrate(auditDataSource(url, 1));
    // BENCH_SKIP_BASELINE=1 runs (b) alone (for profiling the service); the ratio is then not printed.
    // Each path makes its own events, so the service's process does not carry the baseline's in memory.
    const a = process.env.BENCH_SKIP_BASELINE ? { perSecond: NaN, seconds: NaN } : await baseline(url, redis);
    await admin(`DROP TABLE IF EXISTS bench_raw`).catch(() => undefined);
    const b = await auditIngestion(url, redis);
    const ratio = b.perSecond / a.perSecond;
    const out = {
      events: N,
      batch: BATCH,
      consumers: CONSUMERS,
      chains: CHAINS,
      loadAverageAtStart: loadAtStart,
      baseline: {
        perSecond: Math.round(a.perSecond),
        seconds: +a.seconds.toFixed(3),
        nodeCpuMicrosPerEvent: +(a.nodeCpuMicrosPerEvent ?? NaN).toFixed(1),
        pgCpuMicrosPerEvent: +(a.pgCpuMicrosPerEvent ?? NaN).toFixed(1),
      },
      audit: {
        perSecond: Math.round(b.perSecond),
        seconds: +b.seconds.toFixed(3),
        publishSeconds: +b.publishSeconds.toFixed(3),
        serviceCpuMicrosPerEvent: +b.serviceCpuMicrosPerEvent.toFixed(1),
        pgCpuMicrosPerEvent: +b.pgCpuMicrosPerEvent.toFixed(1),
        redisCpuMicrosPerEvent: +b.redisCpuMicrosPerEvent.toFixed(1),
        publisherCpuMicrosPerEvent: +b.publisherCpuMicrosPerEvent.toFixed(1),
        recordsPerChain: b.chains,
        verifiedPerSecond: Math.round(b.verifiedPerSecond),
      },
      ratio: +ratio.toFixed(3),
      target: { eventsPerSecond: 20_000, met: b.perSecond >= 20_000 },
    };
    console.log(JSON.stringify(out, null, 2));
    console.log(`baseline (XADD + batched INSERT, plain table): ${out.baseline.perSecond} events/s`);
    console.log(`audit service (consume, dedupe, chain, insert): ${out.audit.perSecond} events/s`);
    console.log(`ratio audit/baseline: ${out.ratio}   target ≥ 20000 events/s: ${out.target.met ? 'met' : 'NOT met'}`);
  } finally {
    redis.disconnect();
    await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  }
}

if (require.main === module) {
  const publishArg = process.argv.indexOf('--publish');
  (publishArg > 0 ? publisherMain(process.argv[publishArg + 1]) : main()).catch((err) => {
    console.error(err);
    process.exit(1);
  });
}

module.exports = { makeEvents, toWire, xaddBatch };
