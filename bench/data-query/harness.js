'use strict';
/**
 * What the data-query benchmarks share: a scratch database, data-query in a child
 * process (so load generation never shares its event loop), tokens signed with a
 * key of our own, and events written the way the relays would write them.
 */
const { fork } = require('node:child_process');
const { existsSync, statSync } = require('node:fs');
const { generateKeyPairSync, randomUUID, randomBytes } = require('node:crypto');
const { loadavg, tmpdir } = require('node:os');
const { join } = require('node:path');
const { deployedNodeArgs } = require('../lib/scratch');

const ADMIN_URL = process.env.BENCH_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.BENCH_REDIS_URL || 'redis://127.0.0.1:6379';
const DB_NAME = 'gdx_bench_data_query';
const POPULATION = '101001/0001';
const CHILD_FLAG = '--serve-data-query';

function args(defaults) {
  const a = { ...defaults };
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    const m = /^--([a-z]+)(?:=(.*))?$/.exec(argv[i]);
    if (!m) continue;
    const v = m[2] ?? (argv[i + 1]?.startsWith('--') || argv[i + 1] === undefined ? 'true' : argv[++i]);
    a[m[1]] = Number.isNaN(Number(v)) ? v : Number(v);
  }
  return a;
}

const log = (...m) => console.log(`[${new Date().toISOString().slice(11, 19)}]`, ...m);

function databaseUrl(name) {
  const u = new URL(ADMIN_URL);
  u.pathname = `/${name}`;
  return u.toString();
}

/** The child: data-query itself, answering 'stats' with its CPU time, memory and batching counters. */
async function serveChild() {
  const { buildApp, loadDataQueryConfig } = require('@gdx/data-query');
  const opts = JSON.parse(process.env.BENCH_SERVER);
  const config = loadDataQueryConfig(
    {},
    {
      databaseUrl: opts.databaseUrl,
      redisUrl: REDIS_URL,
      streamPrefix: opts.prefix,
      migrateOnStart: false,
      logLevel: 'silent',
      databasePoolSize: opts.pool,
      ...(opts.tune ?? {}),
      host: '127.0.0.1',
      port: 0,
    },
  );
  const app = await buildApp({ config, logger: false, keyFor: async (kid) => (kid === 'bench' ? opts.publicKey : undefined) });
  await app.listen({ host: '127.0.0.1', port: 0 });
  process.send({ port: app.server.address().port });
  process.on('message', async (m) => {
    if (m === 'stats') process.send({ cpu: process.cpuUsage(), rss: process.memoryUsage().rss, points: { ...app.dataQuery.points.stats }, audit: { ...app.dataQuery.audit.stats } });
    if (m === 'stop') {
      await app.close();
      process.exit(0);
    }
  });
}

/** Scratch database, data-query child, the population resource published; everything a benchmark needs. */
async function setup({ pool: poolSize = 10, replicas = 1 } = {}) {
  const { Client, Pool } = require('pg');
  const { Redis } = require('ioredis');
  const { createSigner } = require('fast-jwt');
  const { migrate } = require('@gdx/database');
  const { streamKey } = require('@gdx/events');
  const { createEvent } = require('@gdx/contracts');
  const { starterResourceView } = require('@gdx/data-query/testing');
  const { dataQueryDataSource } = require('@gdx/data-query');

  const loadAtStart = loadavg().map((x) => Number(x.toFixed(2)));
  const prefix = `bench:dq:${randomBytes(4).toString('hex')}:`;
  const url = databaseUrl(DB_NAME);
  log(`scratch database ${DB_NAME}, redis prefix ${prefix}; load average ${loadAtStart.join(' ')}`);
  const admin = new Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${DB_NAME} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${DB_NAME}`);
  await admin.end();
  await migrate(dataQueryDataSource(url, 2));

  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const sign = createSigner({ key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), algorithm: 'EdDSA', kid: 'bench', expiresIn: 3_600_000 });
  const tokenFor = (unit, kind, roles) => sign({ iss: 'gdx', aud: 'gdx-api', sub: randomUUID(), jti: randomUUID(), typ: kind, unit, roles });
  const providerUnitId = randomUUID();
  const consumerUnitId = randomUUID();

  // Replicas of a stateless service, as Kubernetes would run them: same database, same Redis, a port each.
  // The node flags data-query is deployed with (k8s/base/data-query.yaml), as the services run.
  const execArgv = [...deployedNodeArgs('data-query'), ...(process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [])];
  const serverEnv = JSON.stringify({
    databaseUrl: url,
    prefix,
    pool: poolSize,
    tune: process.env.BENCH_TUNE ? JSON.parse(process.env.BENCH_TUNE) : undefined,
    publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  });
  const children = [];
  const ports = [];
  for (let i = 0; i < replicas; i++) {
    const child = fork(process.argv[1], [CHILD_FLAG], { execArgv, env: { ...process.env, BENCH_SERVER: serverEnv } });
    ports.push(
      await new Promise((resolve, reject) => {
        child.once('message', (m) => resolve(m.port));
        child.once('exit', (c) => reject(new Error(`data-query exited with ${c}`)));
      }),
    );
    children.push(child);
  }
  const port = ports[0];
  log(`data-query listening on ${ports.join(', ')} (pids ${children.map((c) => c.pid).join(', ')}, pool ${poolSize} each)`);
  const statsOf = (child) =>
    new Promise((resolve) => {
      child.once('message', resolve);
      child.send('stats');
    });
  /** CPU and batching counters summed over the replicas; RSS of the largest. */
  const stats = async () => {
    const all = await Promise.all(children.map(statsOf));
    return {
      cpu: { user: all.reduce((x, s) => x + s.cpu.user, 0), system: all.reduce((x, s) => x + s.cpu.system, 0) },
      rss: Math.max(...all.map((s) => s.rss)),
      points: { lookups: all.reduce((x, s) => x + s.points.lookups, 0), statements: all.reduce((x, s) => x + s.points.statements, 0) },
      audit: { events: all.reduce((x, s) => x + s.audit.events, 0), calls: all.reduce((x, s) => x + s.audit.calls, 0) },
    };
  };

  const redis = new Redis(REDIS_URL);
  const pool = new Pool({ connectionString: url, max: poolSize, options: '-c search_path=data_query,public' });
  const xadd = (domain, type, subject, data) => redis.xadd(streamKey(prefix, domain), '*', 'event', JSON.stringify(createEvent(type, { actor: { kind: 'system' }, subject, data })));
  await xadd('resource', 'resource.published', POPULATION, starterResourceView(POPULATION, providerUnitId));
  await waitFor('the population table', async () => (await pool.query(`SELECT 1 FROM dataset WHERE code = $1`, [POPULATION])).rowCount === 1);

  async function teardown() {
    await Promise.all(
      children.map((child) => {
        child.send('stop');
        return new Promise((r) => child.once('exit', r));
      }),
    );
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

  return { url, prefix, port, ports, stats, redis, pool, xadd, streamKey, tokenFor, providerUnitId, consumerUnitId, loadAtStart, teardown };
}

/** The population NDJSON of `rows` rows, generated once per size and kept in the temp directory. */
async function populationFile(rows) {
  const { writeNdjson, starterResources } = require('@gdx/data-query/testing');
  const file = join(tmpdir(), `gdx-population-${rows}.ndjson`);
  if (!existsSync(file) || statSync(file).size === 0) {
    log(`generating ${rows} population rows → ${file}`);
    const t = Date.now();
    await writeNdjson(
      `${file}.part`,
      starterResources().find((r) => r.code === POPULATION),
      rows,
    );
    require('node:fs').renameSync(`${file}.part`, file);
    log(`generated in ${((Date.now() - t) / 1000).toFixed(1)} s (${(statSync(file).size / 1e6).toFixed(0)} MB)`);
  }
  return file;
}

async function waitFor(what, probe, ms = 30_000) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await probe()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Runs `main`, or the data-query child when this process was forked as one. */
function run(main) {
  const job = process.argv.includes(CHILD_FLAG) ? serveChild() : main();
  job.catch((err) => {
    console.error(err);
    process.exit(1);
  });
}

module.exports = { args, log, setup, populationFile, waitFor, run, POPULATION };
