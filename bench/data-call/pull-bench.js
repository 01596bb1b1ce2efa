#!/usr/bin/env node
'use strict';
/**
 * Data call bulk pull vs PostgreSQL's own COPY of the same slice (issue 12's benchmark, design §9).
 *
 *   npm run bench:data-call -- [--rows 1000000] [--rounds 5] [--chunk 2000] [--keep]
 *
 * Scratch database and data-query in a child process (bench/data-query/harness.js), the
 * population table COPYed in, a data-call grant with a row filter and masked items published
 * as an event. Then alternating rounds of:
 *   (a) COPY (SELECT <granted columns> FROM … WHERE <row filter>) TO STDOUT through pg (pg-copy-streams),
 *   (b) GET /api/v1/data/101001%2F0001/records as NDJSON straight from data-query (JWT, grant decided per
 *       chunk, masking, keyset chunks, SHA-256, quota counting, the delivery record), read to the end.
 * Rows/s of each and their ratio (target (b) ≥ 0.7 × (a)), data-query's RSS idle and at its peak during
 * (b) (sampled every 100 ms; target within +40 MB), then an incremental pull after 1 % of the rows
 * changed (a batch of upserts), as a share of the full pull's time (target ≤ 3 %). Medians and spread
 * go to stdout and bench/data-call/results/.
 */
const { mkdirSync, writeFileSync } = require('node:fs');
const { randomUUID } = require('node:crypto');
const { join } = require('node:path');
const { args, log, setup, populationFile, waitFor, run, POPULATION } = require('../data-query/harness');

const ITEMS = ['idNumber', 'name', 'sex', 'birthDate', 'regionCode'];

async function copyOut(pool, sql) {
  const { to } = require('pg-copy-streams');
  const client = await pool.connect();
  const started = process.hrtime.bigint();
  let rows = 0;
  let bytes = 0;
  try {
    const stream = client.query(to(sql));
    for await (const chunk of stream) {
      bytes += chunk.length;
      for (let i = 0; i < chunk.length; i++) if (chunk[i] === 10) rows++;
    }
  } finally {
    client.release();
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { rows, bytes, seconds, rowsPerSecond: rows / seconds };
}

async function pull(port, token, since, sample) {
  const path = `/api/v1/data/${encodeURIComponent(POPULATION)}/records${since ? `?since=${encodeURIComponent(since)}` : ''}`;
  const started = process.hrtime.bigint();
  // Uncompressed, as COPY's side is (fetch would ask for gzip by itself).
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { headers: { authorization: `Bearer ${token}`, 'accept-encoding': 'identity' } });
  if (res.status !== 200) throw new Error(`pull answered ${res.status}: ${await res.text()}`);
  let lines = 0;
  let bytes = 0;
  let tail = '';
  const decoder = new TextDecoder();
  const timer = sample ? setInterval(sample, 100) : null;
  try {
    for await (const chunk of res.body) {
      bytes += chunk.length;
      for (let i = 0; i < chunk.length; i++) if (chunk[i] === 10) lines++;
      tail = (tail + decoder.decode(chunk, { stream: true })).slice(-4096);
    }
  } finally {
    if (timer) clearInterval(timer);
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const end = JSON.parse(tail.trim().split('\n').pop())._end;
  if (!end?.complete) throw new Error(`pull did not complete: ${JSON.stringify(end)}`);
  return { rows: end.rows + end.tombstones, lines, bytes, seconds, rowsPerSecond: (end.rows + end.tombstones) / seconds, cursor: end.cursor };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const spread = (xs) => `${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)}`;

async function main() {
  const a = args({ rows: 1_000_000, rounds: 5, chunk: 2000, pool: 4 });
  process.env.BENCH_TUNE = JSON.stringify({ pullChunkRows: a.chunk });
  const { DatasetRegistry, copyNdjsonIntoDataset, personOf } = require('@gdx/data-query/testing');
  const h = await setup({ pool: a.pool });
  const file = await populationFile(a.rows);
  const registry = new DatasetRegistry(h.pool);
  await registry.reload(POPULATION);
  const client = await h.pool.connect();
  const loaded = await copyNdjsonIntoDataset(client, registry.get(POPULATION), file);
  client.release();
  await h.pool.query(`ANALYZE data_query_rows.r_101001_0001`);
  log(`loaded ${loaded} rows`);

  // The row filter keeps the city's local districts (every row here), so both sides evaluate it on every row.
  const regions = [...new Set(Array.from({ length: 200 }, (_, i) => personOf(i).regionCode))];
  const grant = {
    id: randomUUID(),
    consumerUnitId: h.consumerUnitId,
    providerUnitId: h.providerUnitId,
    resourceCode: POPULATION,
    items: ITEMS,
    rowFilter: { all: [{ key: 'regionCode', op: 'in', value: regions }] },
    modes: ['data-call'],
    rateLimitPerSecond: 100000,
    dailyQuota: 1_000_000_000,
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
  await waitFor('the grant to reach data-query', async () => {
    const res = await fetch(
      `http://127.0.0.1:${h.port}/api/v1/data/${encodeURIComponent(POPULATION)}/records?since=${encodeURIComponent(Buffer.from(JSON.stringify([POPULATION, '1'])).toString('base64url'))}`,
      {
        headers: { authorization: `Bearer ${token}` },
      },
    );
    await res.text();
    return res.status === 200;
  });
  const copySql = `COPY (SELECT id_number, name, sex, birth_date, region_code FROM data_query_rows.r_101001_0001 WHERE _deleted_at IS NULL AND region_code = ANY('{${regions.join(',')}}'::text[])) TO STDOUT`;

  const idleRss = (await h.stats()).rss;
  const copies = [];
  const pulls = [];
  let peakRss = idleRss;
  let cursor;
  for (let round = 1; round <= a.rounds; round++) {
    const c = await copyOut(h.pool, copySql);
    copies.push(c);
    const p = await pull(h.port, token, undefined, async () => {
      peakRss = Math.max(peakRss, (await h.stats()).rss);
    });
    pulls.push(p);
    cursor = p.cursor;
    log(`round ${round}: COPY ${c.rows} rows in ${c.seconds.toFixed(2)} s (${c.rowsPerSecond.toFixed(0)}/s); pull ${p.rows} rows in ${p.seconds.toFixed(2)} s (${p.rowsPerSecond.toFixed(0)}/s)`);
  }

  // 1 % of the rows change (names), submitted as a batch, then pulled incrementally.
  const changed = Math.max(1, Math.floor(loaded / 100));
  const provider = h.tokenFor(h.providerUnitId, 'account', ['unit_admin']);
  const body = Array.from({ length: changed }, (_, i) => {
    const p = personOf((i * 97) % loaded);
    return JSON.stringify({ idNumber: p.idNumber, name: `变更${i}`, sex: p.sex, birthDate: p.birthDate, regionCode: p.regionCode });
  }).join('\n');
  const batch = await fetch(`http://127.0.0.1:${h.port}/api/v1/data/${encodeURIComponent(POPULATION)}/batches`, {
    method: 'POST',
    headers: { authorization: `Bearer ${provider}`, 'content-type': 'application/x-ndjson' },
    body,
  });
  if (batch.status !== 200) throw new Error(`batch answered ${batch.status}: ${await batch.text()}`);
  const incrementals = [];
  for (let round = 1; round <= a.rounds; round++) incrementals.push(await pull(h.port, token, cursor));
  log(`incremental pulls: ${incrementals.map((p) => `${p.rows} rows in ${p.seconds.toFixed(3)} s`).join('; ')}`);

  const copyRps = median(copies.map((c) => c.rowsPerSecond));
  const pullRps = median(pulls.map((p) => p.rowsPerSecond));
  const fullSeconds = median(pulls.map((p) => p.seconds));
  const incSeconds = median(incrementals.map((p) => p.seconds));
  const ratios = pulls.map((p, i) => p.rowsPerSecond / copies[i].rowsPerSecond);
  const result = {
    when: new Date().toISOString(),
    command: `node bench/data-call/pull-bench.js ${process.argv.slice(2).join(' ')}`.trim(),
    rows: loaded,
    chunkRows: a.chunk,
    loadAverageAtStart: h.loadAtStart,
    copy: { medianRowsPerSecond: copyRps, rounds: copies },
    pull: { medianRowsPerSecond: pullRps, rounds: pulls.map(({ cursor: _c, ...p }) => p) },
    ratio: { median: median(ratios), rounds: ratios, target: 0.7 },
    rss: { idleMB: idleRss / 1e6, peakMB: peakRss / 1e6, growthMB: (peakRss - idleRss) / 1e6, targetMB: 40 },
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
  console.log(`| (a) COPY … TO STDOUT through pg | ${copyRps.toFixed(0)} | ${spread(copies.map((c) => c.rowsPerSecond))} | ${(median(copies.map((c) => c.bytes / c.seconds)) / 1e6).toFixed(1)} |`);
  console.log(`| (b) NDJSON pull from data-query | ${pullRps.toFixed(0)} | ${spread(pulls.map((p) => p.rowsPerSecond))} | ${(median(pulls.map((p) => p.bytes / p.seconds)) / 1e6).toFixed(1)} |`);
  console.log(
    `\nratio (b)/(a): median ${result.ratio.median.toFixed(3)} (rounds ${ratios.map((r) => r.toFixed(3)).join(', ')}; target ≥ 0.7); data-query RSS idle ${result.rss.idleMB.toFixed(0)} MB, peak ${result.rss.peakMB.toFixed(0)} MB (+${result.rss.growthMB.toFixed(1)} MB; target ≤ +40); incremental after ${changed} changed rows ${(incSeconds * 1000).toFixed(0)} ms = ${(result.incremental.share * 100).toFixed(2)} % of the full pull (target ≤ 3 %)`,
  );
  const dir = join(__dirname, 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `pull-${result.when.replace(/[:.]/g, '-')}.json`), `${JSON.stringify(result, null, 2)}\n`);
  await h.teardown();
}

run(main);
