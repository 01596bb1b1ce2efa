#!/usr/bin/env node
'use strict';
/**
 * A 1,000,000-row population batch streamed over HTTP into data-query
 * (POST /api/v1/data/101001%2F0001/batches, application/x-ndjson): throughput and
 * data-query's resident memory sampled throughout, to show memory stays flat
 * while the body streams (design §6, §9).
 *
 *   npx tsc -b services/data-query && node bench/data-query/batch-bench.js [--rows 1000000] [--keep]
 */
const { createReadStream, mkdirSync, statSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
const { args, log, setup, populationFile, run, POPULATION } = require('./harness');

async function main() {
  const a = args({ rows: 1_000_000 });
  const h = await setup({ pool: 4 });
  const file = await populationFile(a.rows);
  const token = h.tokenFor(h.providerUnitId, 'account', ['unit_operator']);
  const baseline = (await h.stats()).rss;
  const samples = [];
  const sampler = setInterval(async () => samples.push((await h.stats()).rss), 250);
  log(`streaming ${(statSync(file).size / 1e6).toFixed(0)} MB (${a.rows} rows) to data-query; RSS before ${Math.round(baseline / 1e6)} MB`);
  const started = Date.now();
  const res = await fetch(`http://127.0.0.1:${h.port}/api/v1/data/${encodeURIComponent(POPULATION)}/batches`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-ndjson' },
    body: createReadStream(file),
    duplex: 'half',
  });
  const body = await res.json();
  const seconds = (Date.now() - started) / 1000;
  clearInterval(sampler);
  const peak = Math.max(baseline, ...samples);
  const result = {
    when: new Date().toISOString(),
    command: `node bench/data-query/batch-bench.js ${process.argv.slice(2).join(' ')}`.trim(),
    status: res.status,
    answer: body,
    seconds,
    rowsPerSecond: body.rows / seconds,
    rssBeforeMB: Math.round(baseline / 1e6),
    rssPeakMB: Math.round(peak / 1e6),
    rssSamplesMB: samples.map((s) => Math.round(s / 1e6)),
    loadAverageAtStart: h.loadAtStart,
  };
  console.log(`\n${res.status} ${JSON.stringify(body)}`);
  console.log(
    `${a.rows} rows in ${seconds.toFixed(1)} s = ${Math.round(result.rowsPerSecond)} rows/s; data-query RSS ${result.rssBeforeMB} MB before, ${result.rssPeakMB} MB peak (${samples.length} samples)\n`,
  );
  const dir = join(__dirname, 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `batch-${result.when.replace(/[:.]/g, '-')}.json`), `${JSON.stringify(result, null, 2)}\n`);
  await h.teardown();
}

run(main);
