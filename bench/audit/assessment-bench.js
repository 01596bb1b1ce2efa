'use strict';
/**
 * Assessment benchmark (issue 15): what keeping the assessment's rollups (and running security
 * inspection) costs audit ingestion, how fast a year's assessment of every unit answers, and how
 * long a rebuild of a year's rollups from the trail takes.
 *
 *   npm run bench:assessment -- [--events 10000000] [--rounds 1] [--configs plain,rollups,full] [--reads 200]
 *
 * Each round, in one process run and against the same PostgreSQL and Redis, ingests the same
 * synthetic year (2025) of events of 13 units — interface queries mostly, data calls, jobs,
 * batches, requests, cases, gateway call records — published by a child process, through the
 * real audit service (buildApp) in each configuration, each in a fresh scratch database:
 *   plain    the trail alone (assessmentRollups off, inspection off): the baseline of the ratio;
 *   rollups  the trail with the rollups kept in its transactions (inspection off);
 *   full     as deployed: rollups and the inspection consumer group.
 * Ingestion is timed from the first XADD until the last record is committed (events/s). After
 * `rollups` (or `full`), GET /api/v1/assessments/2025 is asked `--reads` times (latency p50/p99),
 * then the rollups are rebuilt from the trail (seconds) and the figures compared with before.
 * Prints one JSON object per round and a summary (median and spread over the rounds).
 */
const { createHash, generateKeyPairSync, randomBytes, randomUUID } = require('node:crypto');
const { mkdtempSync, rmSync } = require('node:fs');
const { createServer } = require('node:http');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const { createSigner } = require('fast-jwt');
const { Redis } = require('ioredis');
const { migrate } = require('@gdx/database');
const { streamKey } = require('@gdx/events');
const { untypedEvent } = require('@gdx/contracts');
const { buildApp, loadAuditConfig, auditDataSource } = require('@gdx/audit');
const { REDIS_URL, dbUrl, admin } = require('../lib/scratch');
const { cliArgs, median, spread } = require('../lib/figures');

const args = cliArgs({ events: 10_000_000, rounds: 1, batch: 1000, reads: 200 });
const configsArg = process.argv.indexOf('--configs');
const CONFIGS = (configsArg > 0 ? process.argv[configsArg + 1] : 'plain,rollups,full').split(',');
const N = Number(args.events);
const BATCH = Number(args.batch);
const YEAR_START = Date.parse('2025-01-01T00:00:00+08:00');
const YEAR_MS = Date.parse('2026-01-01T00:00:00+08:00') - YEAR_START;

/** 13 units and their resources, the same in every process (derived, not random). */
const uuidOf = (s) => {
  const h = createHash('sha256').update(s).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
};
const UNITS = Array.from({ length: 13 }, (_, i) => ({ id: uuidOf(`unit-${i}`), name: `单位${String(i + 1).padStart(2, '0')}`, kind: i === 0 ? 'office' : 'provider' }));
const DEPTS = UNITS.slice(1);
const RESOURCES = DEPTS.flatMap((u, i) => [0, 1].map((j) => ({ code: `${100 + i}/000${j + 1}`, provider: u.id, cycle: j ? 'monthly' : 'daily' })));
const GRANTS = Array.from({ length: 120 }, (_, i) => ({ id: uuidOf(`grant-${i}`), consumer: DEPTS[i % DEPTS.length].id, resource: RESOURCES[(i * 7) % RESOURCES.length] }));

/** The i-th event of the pool: a deterministic mix, time-ordered over 2025. */
function eventAt(i) {
  const at = new Date(YEAR_START + Math.floor((i / POOL) * YEAR_MS));
  const g = GRANTS[i % GRANTS.length];
  const actor = { kind: 'client', unitId: g.consumer, clientId: `client-${i % 40}` };
  const base = { unitId: g.consumer, clientId: actor.clientId, grantId: g.id, resourceCode: g.resource.code, providerUnitId: g.resource.provider, requestId: randomUUID() };
  const r = i % 100;
  const make = (type, data, a = actor) => untypedEvent(type, { actor: a, subject: data.resourceCode ?? g.resource.code, occurredAt: at, data });
  if (r < 70)
    return make('query.executed', {
      ...base,
      mode: 'interface',
      items: ['name'],
      rowCount: i % 5 ? 1 : 0,
      result: 'allowed',
      latencyMs: 2,
      sourceAddress: '10.0.0.1',
      via: 'data-query',
      keys: [{ digest: (i % 9973).toString(16), seq: i % 1000 }],
    });
  if (r < 75)
    return make('query.denied', { ...base, mode: 'interface', items: ['name'], rowCount: 0, result: 'denied', reason: 'ITEM_NOT_GRANTED', latencyMs: 1, sourceAddress: '10.0.0.1', via: 'gateway' });
  if (r < 80) return make('data.delivered', { ...base, deliveryId: randomUUID(), mode: 'data-call', kind: 'pull', rowCount: 500, result: 'allowed' });
  if (r < 82)
    return make('job.finished', {
      ...base,
      jobId: randomUUID(),
      mode: 'customization',
      kind: 'compare',
      status: 'succeeded',
      rowCount: 1000,
      items: ['name'],
      records: 1000,
      counts: {},
      resultSha256: null,
    });
  if (r < 85) {
    const res = RESOURCES[i % RESOURCES.length];
    return make(
      'data.updated',
      { resourceCode: res.code, providerUnitId: res.provider, changeSeq: i, rows: 100, upserted: 100, deleted: 2, unmatchedDeletes: 0, inserted: 10, revived: 0 },
      { kind: 'client', unitId: res.provider },
    );
  }
  if (r < 87) return make('request.submitted', { requestId: randomUUID(), applicantUnitId: g.consumer, providerUnitId: g.resource.provider, resourceCode: g.resource.code, to: 'provider' });
  if (r < 89)
    return make('request.reviewed', {
      requestId: randomUUID(),
      applicantUnitId: g.consumer,
      providerUnitId: g.resource.provider,
      resourceCode: g.resource.code,
      decision: i % 7 ? 'approve' : 'refuse',
      legalBasis: i % 7 ? null : '《条例》',
      workingDays: i % 15,
    });
  if (r < 90)
    return make('case.opened', {
      caseId: randomUUID(),
      number: 'YY-2025-0001',
      caseType: 'objection',
      status: 'awaiting_answer',
      fromStatus: null,
      action: 'open',
      openedByUnitId: g.consumer,
      againstUnitId: g.resource.provider,
      ownerUnitId: g.resource.provider,
      resourceCode: g.resource.code,
      deadline: null,
      overdue: false,
    });
  return make('call.completed', {
    method: 'GET',
    route: '/api/v1/catalogue/resources',
    path: '/api/v1/catalogue/resources',
    status: 200,
    result: 'allowed',
    unitId: g.consumer,
    requestId: randomUUID(),
    sourceAddress: '10.0.0.1',
    latencyMs: 3,
  });
}

/** The catalogue first, as the catalogue service would have published it. */
function catalogueEvents() {
  return RESOURCES.flatMap((res) =>
    ['resource.created', 'resource.published'].map((type) =>
      untypedEvent(type, {
        actor: { kind: 'account', unitId: res.provider },
        subject: res.code,
        occurredAt: new Date(YEAR_START - 86_400_000),
        data: { code: res.code, providerUnitId: res.provider, format: '数据库', classification: ['1', '01', '001'], updateCycle: res.cycle, name: res.code },
      }),
    ),
  );
}

/**
 * The publisher serialises a pool of events spread over the year before the clock starts and
 * sends it round and round, each time under a fresh event id (the envelope's first field): as in
 * issue 6's benchmark, on two cores the load generator should take as little CPU as it can from
 * the system under test.
 */
const POOL = Math.min(N, 200_000);

async function publisherMain(prefix) {
  const redis = new Redis(REDIS_URL);
  const pool = Array.from({ length: POOL }, (_, j) => {
    const e = eventAt(j);
    return { key: streamKey(prefix, e.type.split('.')[0]), rest: JSON.stringify(e).slice(43) };
  });
  const head = '{"id":"';
  if (!JSON.stringify(eventAt(0)).startsWith(head)) throw new Error('the envelope no longer starts with its id');
  process.send({ kind: 'ready' });
  await new Promise((resolve) => process.once('message', resolve));
  const started = process.hrtime.bigint();
  const send = async (items) => {
    const p = redis.pipeline();
    for (const [key, text] of items) p.xadd(key, '*', 'event', text);
    await p.exec();
  };
  await send(catalogueEvents().map((e) => [streamKey(prefix, e.type.split('.')[0]), JSON.stringify(e)]));
  for (let i = 0; i < N; i += BATCH) {
    const batch = [];
    for (let j = i; j < Math.min(N, i + BATCH); j++) {
      const w = pool[j % POOL];
      batch.push([w.key, `${head}${randomUUID()}${w.rest}`]);
    }
    await send(batch);
  }
  process.send({ kind: 'published', seconds: Number(process.hrtime.bigint() - started) / 1e9 });
  redis.disconnect();
  process.disconnect();
}

function startPublisher(prefix) {
  const { fork } = require('node:child_process');
  const child = fork(__filename, ['--publish', prefix, '--events', String(N), '--batch', String(BATCH)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const message = (kind) =>
    new Promise((resolve, reject) => {
      child.on('message', (m) => m.kind === kind && resolve(m));
      child.once('exit', (code) => code && reject(new Error(`publisher exited with ${code}`)));
    });
  return { ready: message('ready'), go: () => (child.send({ kind: 'go' }), message('published')) };
}

/** The unit directory the assessment reads from the gateway: the 13 units. */
async function directory() {
  const server = createServer((req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ items: UNITS })));
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${server.address().port}`, close: () => new Promise((r) => server.close(r)) };
}

async function run(config, gatewayUrl, sign) {
  const name = `gdx_bench_assess_${randomBytes(4).toString('hex')}`;
  await admin(`CREATE DATABASE ${name}`);
  const url = dbUrl(name);
  const redis = new Redis(REDIS_URL);
  const keysDir = mkdtempSync(join(tmpdir(), 'gdx-bench-audit-keys-'));
  const prefix = `bench:${randomBytes(4).toString('hex')}:`;
  try {
    await migrate(auditDataSource(url, 1));
    // A partition per month of the year, as the service's upkeep would have made them at the time.
    const ds0 = auditDataSource(url, 1);
    await ds0.initialize();
    await ds0.query(`SELECT audit_ensure_month('2025-01-01T00:00:00Z'::timestamptz + make_interval(months => m)) FROM generate_series(-1, 12) AS m`);
    await ds0.destroy();
    const app = await buildApp({
      config: loadAuditConfig(
        {},
        {
          databaseUrl: url,
          redisUrl: REDIS_URL,
          streamPrefix: prefix,
          migrateOnStart: false,
          logLevel: 'silent',
          databasePoolSize: 8,
          auditKeysDir: keysDir,
          auditBatchSize: BATCH,
          checkpointIntervalMs: 0,
          gatewayUrl,
          assessmentRollups: config !== 'plain',
          inspection: config === 'full',
        },
      ),
      logger: false,
      keyFor: async (kid) => (kid === 'bench' ? sign.publicPem : undefined),
    });
    await app.ready();
    const written = app.metrics.getSingleMetric('audit_records_written_total');
    const count = async () => (await written.get()).values[0]?.value ?? 0;
    const total = N + RESOURCES.length * 2;
    const publisher = startPublisher(prefix);
    await Promise.all([publisher.ready, new Promise((r) => setTimeout(r, 500))]);
    const started = process.hrtime.bigint();
    const { seconds: published } = await publisher.go();
    while ((await count()) < total) await new Promise((r) => setTimeout(r, 20));
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const out = { config, events: total, seconds: +seconds.toFixed(2), perSecond: Math.round(total / seconds), publishSeconds: +published.toFixed(2) };
    if (config !== 'plain') {
      if (config === 'full') {
        // Inspection runs beside the trail in its own group: how far behind it is when the trail is in, and when it catches up.
        const inspectedCount = async () => (await app.db.query(`SELECT count(*)::int AS n FROM processed_event WHERE consumer_group = 'audit-inspection'`))[0].n;
        let expected = 0;
        for (let i = 0; i < N; i++) if ((i % POOL) % 100 < 80) expected++;
        out.inspectedWhenTrailDone = await inspectedCount();
        while ((await inspectedCount()) < expected) await new Promise((r) => setTimeout(r, 100));
        const caughtUp = Number(process.hrtime.bigint() - started) / 1e9;
        out.inspection = { events: expected, caughtUpSeconds: +caughtUp.toFixed(2), perSecond: Math.round(expected / caughtUp) };
        out.inspectionAlerts = (await app.db.query('SELECT rule, count(*)::int AS n FROM inspection_alert GROUP BY rule ORDER BY rule')).map((r) => `${r.rule}:${r.n}`);
      }
      const token = sign.token();
      const times = [];
      let figures;
      for (let i = 0; i < Number(args.reads); i++) {
        const t = process.hrtime.bigint();
        const res = await app.inject({ method: 'GET', url: '/api/v1/assessments/2025', headers: { authorization: `Bearer ${token}` } });
        times.push(Number(process.hrtime.bigint() - t) / 1e6);
        if (res.statusCode !== 200) throw new Error(`assessment answered ${res.statusCode}: ${res.body}`);
        figures = res.body;
      }
      times.sort((a, b) => a - b);
      out.assessment = {
        units: JSON.parse(figures).units.length,
        p50Ms: +times[Math.floor(times.length * 0.5)].toFixed(1),
        p99Ms: +times[Math.min(times.length - 1, Math.floor(times.length * 0.99))].toFixed(1),
      };
      const r0 = process.hrtime.bigint();
      out.rebuild = { replayed: await app.assessment.rebuild(), seconds: +(Number(process.hrtime.bigint() - r0) / 1e9).toFixed(2) };
      const after = await app.inject({ method: 'GET', url: '/api/v1/assessments/2025', headers: { authorization: `Bearer ${token}` } });
      out.rebuild.sameFigures = after.body === figures;
      if (!out.rebuild.sameFigures) throw new Error('the figures after the rebuild differ');
    }
    await app.close();
    return out;
  } finally {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    const tagged = await redis.keys(`{${prefix}*`);
    if (tagged.length) await redis.del(...tagged);
    redis.disconnect();
    rmSync(keysDir, { recursive: true, force: true });
    await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  }
}

async function main() {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const signer = createSigner({ key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), algorithm: 'EdDSA', kid: 'bench', expiresIn: 3_600_000 });
  const sign = {
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    token: () => signer({ iss: 'gdx', aud: 'gdx-api', sub: randomUUID(), typ: 'account', unit: UNITS[0].id, roles: ['office_auditor'], jti: randomUUID() }),
  };
  const dir = await directory();
  const configs = CONFIGS;
  const rounds = [];
  try {
    for (let round = 0; round < Number(args.rounds); round++) {
      // Alternate the order, so neither configuration always runs on a warmer machine.
      const order = round % 2 ? [...configs].reverse() : configs;
      const results = {};
      for (const c of order) results[c] = await run(c, dir.url, sign);
      const line = {
        round: round + 1,
        loadAverage: require('node:os')
          .loadavg()
          .map((x) => +x.toFixed(2)),
        ...results,
      };
      if (results.plain && results.rollups) line.rollupsOverPlain = +(results.rollups.perSecond / results.plain.perSecond).toFixed(3);
      if (results.plain && results.full) line.fullOverPlain = +(results.full.perSecond / results.plain.perSecond).toFixed(3);
      console.log(JSON.stringify(line));
      rounds.push(line);
    }
  } finally {
    await dir.close();
  }
  const summary = { events: N, rounds: rounds.length };
  for (const c of configs) {
    const rates = rounds.map((r) => r[c].perSecond);
    summary[c] = { perSecondMedian: median(rates), spread: spread(rates) };
    const p99 = rounds.map((r) => r[c].assessment?.p99Ms).filter((x) => x !== undefined);
    if (p99.length) summary[c].assessmentP99Ms = { median: median(p99), spread: spread(p99) };
    const rebuild = rounds.map((r) => r[c].rebuild?.seconds).filter((x) => x !== undefined);
    if (rebuild.length) summary[c].rebuildSeconds = { median: median(rebuild), spread: spread(rebuild) };
  }
  for (const k of ['rollupsOverPlain', 'fullOverPlain']) {
    const xs = rounds.map((r) => r[k]).filter((x) => x !== undefined);
    if (xs.length) summary[k] = { median: median(xs), spread: spread(xs) };
  }
  console.log(JSON.stringify({ summary }, null, 2));
}

if (require.main === module) {
  const publishArg = process.argv.indexOf('--publish');
  (publishArg > 0 ? publisherMain(process.argv[publishArg + 1]) : main()).catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
