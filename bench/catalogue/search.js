#!/usr/bin/env node
/**
 * Catalogue search benchmark.
 *
 *   npx tsc -b services/catalogue && node bench/catalogue/search.js
 *
 * Seeds 10,000 resources into a scratch database, starts the built catalogue service
 * (services/catalogue/dist) in a child process, and for several query shapes (Chinese
 * substring, filters, sort, second page) measures, in the same run:
 *   - the service over real HTTP with a real token (JWT check, validation, keyset
 *     pagination, JSON serialisation), one request at a time → p50 / p99, and
 *     8 in flight → requests/s (autocannon);
 *   - the baseline: the very SQL the service runs (taken from its query builder), sent
 *     with plain `pg`, one at a time and 8 in flight.
 * and prints the ratios. Environment: BENCH_DATABASE_URL (default
 * postgres://postgres@127.0.0.1:5432/postgres), REDIS_URL, BENCH_ROWS (10000),
 * BENCH_SAMPLES (400), BENCH_SECONDS (3); BENCH_EXPLAIN=1 prints the plans, BENCH_KEEP_DB=1
 * keeps the scratch database for a closer look.
 */
const { fork } = require('node:child_process');
const { generateKeyPairSync, randomBytes, randomUUID } = require('node:crypto');
const { Pool } = require('pg');

const { REDIS_URL, dbUrl, admin } = require('../lib/scratch');
const ROWS = Number(process.env.BENCH_ROWS || 10_000);
const SAMPLES = Number(process.env.BENCH_SAMPLES || 400);
const SECONDS = Number(process.env.BENCH_SECONDS || 3);
const CONCURRENCY = 8;

// ---------------------------------------------------------------- child: the service
async function serve() {
  const { buildApp, loadCatalogueConfig } = require('@gdx/catalogue');
  const publicKey = process.env.BENCH_PUBLIC_KEY;
  const config = loadCatalogueConfig(
    {},
    {
      databaseUrl: process.env.BENCH_DB_URL,
      redisUrl: REDIS_URL,
      streamPrefix: process.env.BENCH_PREFIX,
      migrateOnStart: false,
      logLevel: 'silent',
      databasePoolSize: 10,
      gatewayUrl: 'http://127.0.0.1:9',
    },
  );
  const app = await buildApp({ config, logger: false, keyFor: async () => publicKey });
  await app.listen({ host: '127.0.0.1', port: 0 });
  process.send({ port: app.server.address().port });
  process.on('message', async (m) => {
    if (m === 'stop') {
      await app.close();
      process.exit(0);
    }
  });
}

// ---------------------------------------------------------------- synthetic catalogue
const REGIONS = ['蚌埠市', '龙子湖区', '蚌山区', '禹会区', '淮上区', '怀远县', '五河县', '固镇县'];
const TOPICS = [
  '人口',
  '法人',
  '社会保险',
  '医疗保障',
  '住房公积金',
  '不动产',
  '婚姻',
  '出生医学',
  '死亡',
  '学籍',
  '机动车',
  '驾驶证',
  '营业执照',
  '纳税信用',
  '环境监测',
  '水质',
  '空气质量',
  '交通违法',
  '公交运营',
  '医疗机构',
  '药品经营',
  '食品安全',
  '建筑资质',
  '招标投标',
  '土地利用',
  '城乡规划',
  '最低生活保障',
  '残疾人',
  '退役军人',
  '养老服务',
  '殡葬',
  '社会组织',
  '消防',
  '安全生产',
  '气象',
  '农业补贴',
  '林业',
  '水利工程',
  '文物保护',
  '旅游',
];
const KINDS = ['基本信息', '登记信息', '变更记录', '统计数据', '核验结果', '许可信息', '监测数据', '名录', '处罚信息', '年度报告'];
const VERBS = ['登记', '采集', '审批', '核发', '监测', '汇总', '备案'];
const FORMATS = ['电子文件', '电子表格', '数据库', '图形图像', '流媒体', '自描述格式', '服务接口'];
const CYCLES = ['realtime', 'daily', 'weekly', 'monthly', 'quarterly', 'yearly', 'irregular'];
const METHODS = ['interface', 'data-call', 'customization'];
const pick = (a, i) => a[i % a.length];
const pad = (n, w) => String(n).padStart(w, '0');

function syntheticResource(i, providers, uuidv7) {
  // A cheap deterministic spread: multipliers co-prime with the list lengths.
  const cls = pick(['1', '2', '3'], i);
  const xiang = cls === '1' ? pad(1 + (i % 5), 2) : pad(1 + ((i * 7) % 60), 2);
  const mu = pad(1 + ((i * 13) % 999), 3);
  const seq = pad(1 + Math.floor(i / 50), 4);
  const topic = pick(TOPICS, i * 11 + 3);
  const kind = pick(KINDS, i * 3 + 1);
  const region = pick(REGIONS, i * 5);
  const provider = pick(providers, i * 17);
  const sharingType = pick(['unconditional', 'conditional', 'conditional', 'none'], i * 19);
  const nItems = 3 + (i % 6);
  const items = Array.from({ length: nItems }, (_, k) => ({
    key: `item${k}`,
    label: `${pick(TOPICS, i + k)}字段${k}`,
    type: pick(['string', 'date', 'decimal', 'integer'], k),
    required: k === 0,
    queryKey: k === 0,
    sensitivity: 'internal',
  }));
  return {
    id: uuidv7(),
    code: `${cls}${xiang}${mu}/${seq}`,
    classification: [cls, xiang, mu],
    classCode: cls,
    baseDatabase: cls === '1' ? `1${xiang}` : null,
    // Every 997th entry is a pilot (试点): a rare two-character term.
    name: `${region}${topic}${kind}${i % 997 === 0 ? '(试点)' : ''}`,
    summary: `${region}${pick(VERBS, i)}的${topic}相关${kind},包括${items.map((it) => it.label).join('、')}等,编号${i}。`,
    providerUnitId: provider.id,
    providerUnitName: provider.name,
    providerCreditCode: provider.creditCode,
    format: pick(FORMATS, i * 23),
    items,
    sharingType,
    sharing: sharingType === 'conditional' ? { type: sharingType, conditions: '仅限法定职责' } : sharingType === 'none' ? { type: sharingType, legalBasis: '依法不予共享' } : { type: sharingType },
    methods: METHODS.filter((_, k) => ((i >> k) & 1) === 1 || k === 0),
    open: { open: i % 5 === 0 },
    updateCycle: pick(CYCLES, i * 29),
    relatedCodes: [],
    status: i % 10 === 0 ? 'draft' : 'published',
    version: 1,
    publishedAt: i % 10 === 0 ? null : new Date(Date.now() - i * 60_000),
  };
}

// ---------------------------------------------------------------- measuring
function pct(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function timed(n, fn) {
  for (let i = 0; i < Math.min(50, n); i++) await fn(); // warm-up
  const ms = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn();
    ms.push(performance.now() - t);
  }
  ms.sort((a, b) => a - b);
  return { p50: pct(ms, 50), p99: pct(ms, 99) };
}

async function throughput(seconds, concurrency, fn) {
  let done = 0;
  const end = performance.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        await fn();
        done++;
      }
    }),
  );
  return done / seconds;
}

function autocannonRps(url, headers, seconds) {
  const autocannon = require('autocannon');
  return new Promise((resolve, reject) => {
    autocannon({ url, headers, connections: CONCURRENCY, duration: seconds }, (err, res) => {
      if (err) return reject(err);
      if (res.non2xx) return reject(new Error(`${res.non2xx} non-2xx answers from ${url}`));
      resolve(res.requests.average);
    });
  });
}

async function main() {
  const { migrate, uuidv7 } = require('@gdx/database');
  const { catalogueDataSource } = require('@gdx/catalogue');
  const { Resource, ResourceSearchService } = require('@gdx/catalogue/testing');
  const { createSigner } = require('fast-jwt');

  const name = `gdx_bench_catalogue_${randomBytes(4).toString('hex')}`;
  const prefix = `bench:${randomBytes(4).toString('hex')}:`;
  await admin(`CREATE DATABASE ${name}`);
  let child;
  const ds = catalogueDataSource(dbUrl(name), 4);
  try {
    await migrate(ds);
    await ds.initialize();
    const providers = Array.from({ length: 12 }, (_, k) => ({ id: randomUUID(), name: `蚌埠市第${k + 1}局`, creditCode: `1134030000000000${pad(k, 2)}` }));
    const seen = new Set();
    const rows = [];
    for (let i = 0; rows.length < ROWS; i++) {
      const r = syntheticResource(i, providers, uuidv7);
      if (seen.has(r.code)) continue;
      seen.add(r.code);
      rows.push(r);
    }
    const t0 = performance.now();
    for (let i = 0; i < rows.length; i += 500) await ds.getRepository(Resource).insert(rows.slice(i, i + 500));
    // Steady state: statistics gathered (and the table vacuumed) as autovacuum would have.
    await ds.query('VACUUM ANALYZE resource');
    console.log(`seeded ${rows.length} resources in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const sign = createSigner({ key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), algorithm: 'EdDSA', kid: 'bench' });
    const viewerUnit = providers[0].id;
    const token = sign({ iss: 'gdx', aud: 'gdx-api', sub: randomUUID(), jti: randomUUID(), typ: 'account', unit: viewerUnit, roles: ['unit_admin'], exp: Math.floor(Date.now() / 1000) + 3600 });
    const viewer = { kind: 'account', subject: 'bench', unitId: viewerUnit, roles: ['unit_admin'] };

    child = fork(require.main.filename, ['--serve'], {
      env: { ...process.env, BENCH_DB_URL: dbUrl(name), BENCH_PREFIX: prefix, BENCH_PUBLIC_KEY: publicKey.export({ type: 'spki', format: 'pem' }).toString() },
    });
    const port = await new Promise((resolve, reject) => {
      child.once('message', (m) => resolve(m.port));
      child.once('exit', (code) => reject(new Error(`service exited with ${code}`)));
    });
    const base = `http://127.0.0.1:${port}/api/v1/catalogue/resources`;
    const headers = { authorization: `Bearer ${token}` };

    const search = new ResourceSearchService(ds);
    const first = await (await fetch(`${base}?q=${encodeURIComponent('登记')}&limit=20`, { headers })).json();
    const shapes = [
      { name: 'q=人口 (2 chars)', query: { q: '人口' } },
      { name: 'q=营业执照 (4 chars)', query: { q: '营业执照' } },
      { name: 'q=最低生活保障 (6 chars)', query: { q: '最低生活保障' } },
      { name: 'q=试点 (2 chars, rare)', query: { q: '试点' } },
      { name: 'q=编号4321 (one row)', query: { q: '编号4321' } },
      { name: 'q=不存在的词 (no row)', query: { q: '不存在的词' } },
      { name: 'q=信息 (most rows)', query: { q: '信息' } },
      { name: 'filters class=3 sharing=conditional method=data-call', query: { class: '3', sharingType: 'conditional', method: 'data-call' } },
      { name: 'q=登记 + provider, sort=-updatedAt', query: { q: '登记', provider: providers[3].id, sort: '-updatedAt' } },
      { name: 'q=登记, page 2 (cursor)', query: { q: '登记', limit: 20, cursor: first.nextCursor } },
    ];

    const pool = new Pool({ connectionString: dbUrl(name), max: CONCURRENCY, options: '-c search_path=catalogue,public' });
    const results = [];
    for (const shape of shapes) {
      const query = { limit: 50, ...shape.query };
      const qs = Object.entries(query)
        .map(([k, v]) => `${k}=${encodeURIComponent(String(v))}`)
        .join('&');
      const url = `${base}?${qs}`;
      const [sql, params] = search.query(viewer, { sort: 'code', ...query }).getQueryAndParameters();
      const check = await (await fetch(url, { headers })).json();
      if (!Array.isArray(check.items)) throw new Error(`${shape.name}: ${JSON.stringify(check)}`);
      const plan = (await pool.query(`EXPLAIN ANALYZE ${sql}`, params)).rows.map((r) => r['QUERY PLAN']);
      const trgm = plan.some((l) => /resource_search_(trgm|bigram)/.test(l));
      const [countSql, countParams] = search
        .query(viewer, { sort: 'code', ...query, cursor: undefined })
        .limit(undefined)
        .orderBy()
        .select('count(*)', 'n')
        .getQueryAndParameters();
      const matches = Number((await pool.query(countSql, countParams)).rows[0].n);
      if (process.env.BENCH_EXPLAIN) console.log(`\n${shape.name}\n  ${plan.join('\n  ')}`);

      const http = await timed(SAMPLES, async () => {
        const res = await fetch(url, { headers });
        await res.arrayBuffer();
      });
      const raw = await timed(SAMPLES, () => pool.query(sql, params));
      const httpRps = await autocannonRps(url, headers, SECONDS);
      const rawRps = await throughput(SECONDS, CONCURRENCY, () => pool.query(sql, params));
      results.push({ shape: shape.name, rows: check.items.length, matches, trgm, http, raw, httpRps, rawRps });
    }
    await pool.end();
    // The fixed cost of one HTTP exchange with this service (no token, no database), for scale.
    const floor = await timed(SAMPLES, async () => {
      const res = await fetch(`http://127.0.0.1:${port}/health/live`);
      await res.arrayBuffer();
    });

    const f = (x) => x.toFixed(2).padStart(7);
    console.log(`\n${ROWS} resources, ${SAMPLES} sequential samples per shape, ${SECONDS}s at ${CONCURRENCY} in flight; node ${process.version}`);
    console.log('shape'.padEnd(54), 'match', 'page', 'trgm', '  svc p50', '  svc p99', '   pg p50', '   pg p99', ' p50 x', '  svc req/s', '   pg req/s', ' thr ratio');
    for (const r of results) {
      console.log(
        r.shape.padEnd(54),
        String(r.matches).padStart(5),
        String(r.rows).padStart(4),
        (r.trgm ? 'yes' : 'no').padStart(4),
        f(r.http.p50),
        'ms',
        f(r.http.p99),
        'ms',
        f(r.raw.p50),
        'ms',
        f(r.raw.p99),
        'ms',
        (r.http.p50 / r.raw.p50).toFixed(2).padStart(6),
        r.httpRps.toFixed(0).padStart(11),
        r.rawRps.toFixed(0).padStart(11),
        (r.httpRps / r.rawRps).toFixed(2).padStart(10),
      );
    }
    console.log(`HTTP floor (GET /health/live): p50 ${floor.p50.toFixed(2)} ms, p99 ${floor.p99.toFixed(2)} ms`);
    console.log('\nmatch = rows the search matches (visible to the viewer); page = rows answered; trgm = the plan uses a search index (trigram or bigram).');
    console.log('p50 x = service p50 / plain-pg p50 (same SQL); thr ratio = service req/s / plain-pg req/s (higher is better).');
  } finally {
    if (child && child.connected) {
      child.send('stop');
      await new Promise((r) => child.once('exit', r));
    }
    if (ds.isInitialized) await ds.destroy();
    if (process.env.BENCH_KEEP_DB) console.log(`kept database ${name}`);
    else await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    const { Redis } = require('ioredis');
    const redis = new Redis(REDIS_URL);
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
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
