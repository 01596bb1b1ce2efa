#!/usr/bin/env node
'use strict';
/**
 * Issue 13's benchmark (design §9): a compare job (比对) end to end vs the same comparison in raw SQL.
 *
 *   npm run bench:jobs -- [--rows 1000000] [--records 1000000] [--rounds 5] [--chunk 0] [--keep 0]
 *
 * `--chunk n` sets data-query's jobChunkRecords for the run (0: its default).
 *
 * Scratch database, the gateway, data-query and request-approval as processes (their deployed node
 * flags, k8s/base), the population table (`rows` rows) COPYed in, a customization grant. `records`
 * submitted records: record i asks about person i (every 10th an unknown identity number, every 7th
 * with a wrong name, every 11th a wrong birth date), compared on three items (name, sex, birthDate).
 * Alternating rounds of:
 *   (a) raw SQL: COPY the records (text format) into a temporary table, JOIN it to the population on
 *       the identity number and COPY the per-record verdicts out (read to the end);
 *   (b) the compare job through the gateway: POST /api/v1/jobs, PUT the records as NDJSON (streamed),
 *       wait for it to succeed (GET every 100 ms), GET the result as NDJSON (read to the end);
 * and, while (b)'s big job runs, a 100-record job of another unit, timed from its POST to its success.
 * Reported: records/s of each (median, spread), (b)/(a) (target ≥ 0.5), the small job's latency
 * (target ≤ 2 s), the RSS of the gateway and data-query idle and at their peak (sampled every 100 ms;
 * target within +60 MB). Results go to bench/jobs/results/.
 */
const { createReadStream, createWriteStream, existsSync, mkdirSync, renameSync, statSync, writeFileSync } = require('node:fs');
const { once } = require('node:events');
const { Readable } = require('node:stream');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const { waitFor } = require('../lib/scratch');
const { cliArgs, median, rssPeaks, spread } = require('../lib/figures');
const { bootPlatform, log, CODE } = require('../lib/platform');

/** The submitted records, as NDJSON (for the job) and as COPY text (for raw SQL), written once per size. */
async function writeRecords(count) {
  const { rowMaker, starterResources } = require('@gdx/data-query/testing');
  const { residentIdCheckChar } = require('@gdx/codes');
  // A valid identity number nobody in the table has: the province's own code as the region (the rows use districts').
  const unknown = (id) => `340000${id.slice(6, 17)}${residentIdCheckChar(`340000${id.slice(6, 17)}`)}`;
  const ndjson = join(tmpdir(), `gdx-compare-records-${count}.ndjson`);
  const text = join(tmpdir(), `gdx-compare-records-${count}.tsv`);
  if (existsSync(ndjson) && statSync(ndjson).size && existsSync(text) && statSync(text).size) return { ndjson, text };
  log(`generating ${count} records → ${ndjson}, ${text}`);
  const make = rowMaker(
    starterResources().find((r) => r.code === CODE),
    1,
  );
  // Written under temporary names and renamed once complete: a run cut short leaves nothing that looks whole.
  const a = createWriteStream(`${ndjson}.part`);
  const b = createWriteStream(`${text}.part`);
  for (let i = 0; i < count; ) {
    const nd = [];
    const tx = [];
    for (const end = Math.min(count, i + 1000); i < end; i++) {
      const row = make(i);
      const rec = {
        idNumber: i % 10 === 3 ? unknown(row.idNumber) : row.idNumber,
        name: i % 7 === 0 ? `${row.name}甲` : row.name,
        sex: row.sex,
        birthDate: i % 11 === 0 ? '1900-01-01' : row.birthDate,
      };
      nd.push(JSON.stringify(rec));
      tx.push(`${i + 1}\t${rec.idNumber}\t${rec.name}\t${rec.sex}\t${rec.birthDate}`);
    }
    a.write(`${nd.join('\n')}\n`);
    b.write(`${tx.join('\n')}\n`);
    // Each stream's own state, read after any wait: a drain missed while waiting for the other would hang.
    if (a.writableNeedDrain) await once(a, 'drain');
    if (b.writableNeedDrain) await once(b, 'drain');
  }
  a.end();
  b.end();
  await Promise.all([once(a, 'finish'), once(b, 'finish')]);
  renameSync(`${ndjson}.part`, ndjson);
  renameSync(`${text}.part`, text);
  return { ndjson, text };
}

/** (a): COPY in, JOIN, COPY the verdicts out; one connection, a temporary table, as a DBA would. */
async function rawSql(pool, file) {
  const { from, to } = require('pg-copy-streams');
  const { pipeline } = require('node:stream/promises');
  const client = await pool.connect();
  const started = process.hrtime.bigint();
  let verdicts = 0;
  try {
    await client.query('BEGIN');
    await client.query('CREATE TEMP TABLE submitted (seq int, id_number text, name text, sex text, birth_date text) ON COMMIT DROP');
    await pipeline(createReadStream(file), client.query(from('COPY submitted FROM STDIN')));
    await client.query('ANALYZE submitted');
    const out = client.query(
      to(`COPY (SELECT s.seq, r._row_id IS NOT NULL AS found, r.name = s.name AS name, r.sex = s.sex AS sex, r.birth_date = s.birth_date::date AS birth_date
             FROM submitted s LEFT JOIN data_query_rows.r_101001_0001 r ON r.id_number = s.id_number AND r._deleted_at IS NULL ORDER BY s.seq) TO STDOUT`),
    );
    for await (const chunk of out) for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) verdicts++;
    await client.query('COMMIT');
  } finally {
    client.release();
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { records: verdicts, seconds, recordsPerSecond: verdicts / seconds };
}

async function call(base, token, method, path, body, headers = {}) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body && !(body instanceof ReadableStream) ? { 'content-type': 'application/json' } : {}), ...headers },
    body: body instanceof ReadableStream ? body : body ? JSON.stringify(body) : undefined,
    ...(body instanceof ReadableStream ? { duplex: 'half' } : {}),
  });
  return res;
}

async function untilEnded(base, token, id, pollMs) {
  for (;;) {
    const res = await call(base, token, 'GET', `/api/v1/jobs/${id}`);
    const job = await res.json();
    if (!['awaiting-input', 'queued', 'running'].includes(job.status)) return job;
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/** (b): the compare job through the gateway, from its POST to the last byte of its result. */
async function compareJob(base, token, file, onRunning) {
  const started = process.hrtime.bigint();
  const created = await call(base, token, 'POST', '/api/v1/jobs', { kind: 'compare', resourceCode: CODE, parameters: { items: ['name', 'sex', 'birthDate'] } });
  if (created.status !== 202) throw new Error(`POST /jobs answered ${created.status}: ${await created.text()}`);
  const { id } = await created.json();
  const up = await call(base, token, 'PUT', `/api/v1/jobs/${id}/input`, Readable.toWeb(createReadStream(file)), { 'content-type': 'application/x-ndjson' });
  if (up.status !== 202) throw new Error(`PUT input answered ${up.status}: ${await up.text()}`);
  const uploaded = Number(process.hrtime.bigint() - started) / 1e9;
  const side = onRunning?.();
  const job = await untilEnded(base, token, id, 100);
  if (job.status !== 'succeeded') throw new Error(`the job ended ${job.status}: ${job.error}`);
  const ran = Number(process.hrtime.bigint() - started) / 1e9;
  const res = await call(base, token, 'GET', `/api/v1/jobs/${id}/result`);
  let lines = 0;
  for await (const chunk of res.body) for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++;
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return {
    records: job.progress.total,
    resultLines: lines,
    counts: job.counts,
    seconds,
    uploadSeconds: uploaded,
    runSeconds: ran - uploaded,
    downloadSeconds: seconds - ran,
    recordsPerSecond: job.progress.total / seconds,
    side: await side,
  };
}

/** A 100-record job of another unit, timed from its POST to its success. */
async function smallJob(base, token, records) {
  const started = process.hrtime.bigint();
  const res = await call(base, token, 'POST', '/api/v1/jobs', { kind: 'compare', resourceCode: CODE, parameters: { items: ['name'] }, records });
  if (res.status !== 202) throw new Error(`small job answered ${res.status}: ${await res.text()}`);
  const job = await untilEnded(base, token, (await res.json()).id, 20);
  return { status: job.status, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
}

async function main() {
  const a = cliArgs({ rows: 1_000_000, records: 1_000_000, rounds: 5, chunk: 0, keep: 0 });
  const { rowMaker, starterResources } = require('@gdx/data-query/testing');
  const p = await bootPlatform({
    dbName: 'gdx_bench_jobs',
    unitKeys: ['OFFICE', 'GA', 'LZH', 'MZ'],
    rows: a.rows,
    env: a.chunk ? { 'data-query': { JOB_CHUNK_RECORDS: String(a.chunk) } } : {},
  });
  const { u, children, pool } = p;
  const files = await writeRecords(a.records);
  await p.issueGrant('0190f000-0000-7000-8000-00000000d001', 'LZH', ['idNumber', 'name', 'sex', 'birthDate'], { modes: ['customization'], rowFilter: null });
  await p.issueGrant('0190f000-0000-7000-8000-00000000d002', 'MZ', ['idNumber', 'name', 'sex', 'birthDate'], { modes: ['customization'], rowFilter: null });
  const token = await p.clientToken('LZH');
  const other = await p.clientToken('MZ');
  const make = rowMaker(
    starterResources().find((r) => r.code === CODE),
    1,
  );
  const small = Array.from({ length: 100 }, (_, i) => {
    const row = make(a.rows - 1 - i);
    return { idNumber: row.idNumber, name: row.name };
  });
  await waitFor('the grants at data-query', async () => (await smallJob(u('gateway'), other, small.slice(0, 1))).status === 'succeeded');

  const { idle, peak, stop: stopSampling } = rssPeaks(children);
  const raws = [];
  const jobs = [];
  for (let round = 1; round <= a.rounds; round++) {
    const r = await rawSql(pool, files.text);
    // The small job goes in once the big one is running (its upload done).
    const j = await compareJob(u('gateway'), token, files.ndjson, () => new Promise((res) => setTimeout(res, 500)).then(() => smallJob(u('gateway'), other, small)));
    raws.push(r);
    jobs.push(j);
    log(
      `round ${round}: raw SQL ${r.records} verdicts ${r.seconds.toFixed(2)} s (${Math.round(r.recordsPerSecond)}/s); job ${j.records} records ${j.seconds.toFixed(2)} s (${Math.round(j.recordsPerSecond)}/s: upload ${j.uploadSeconds.toFixed(2)}, run ${j.runSeconds.toFixed(2)}, download ${j.downloadSeconds.toFixed(2)}); small job ${j.side.status} in ${j.side.seconds.toFixed(2)} s; counts ${JSON.stringify(j.counts)}`,
    );
    if (j.resultLines !== j.records) throw new Error(`the result has ${j.resultLines} lines for ${j.records} records`);
  }
  stopSampling();
  const ratios = jobs.map((j, i) => j.recordsPerSecond / raws[i].recordsPerSecond);
  const smalls = jobs.map((j) => j.side.seconds);
  const result = {
    when: new Date().toISOString(),
    command: `node bench/jobs/compare-bench.js ${process.argv.slice(2).join(' ')}`.trim(),
    rows: p.loaded,
    records: a.records,
    raw: { medianRecordsPerSecond: median(raws.map((r) => r.recordsPerSecond)), rounds: raws },
    job: { medianRecordsPerSecond: median(jobs.map((j) => j.recordsPerSecond)), rounds: jobs },
    ratio: { median: median(ratios), rounds: ratios, target: 0.5 },
    smallJobSeconds: { median: median(smalls), max: Math.max(...smalls), rounds: smalls, target: 2 },
    rssMiB: { idle, peak, growth: { gateway: peak.gateway - idle.gateway, dataQuery: peak.dataQuery - idle.dataQuery }, targetGrowth: 60 },
  };
  console.log('\n| path | records/s (median) | spread | median s |\n|---|---|---|---|');
  console.log(
    `| (a) raw SQL: COPY in, JOIN, COPY verdicts out | ${Math.round(result.raw.medianRecordsPerSecond)} | ${spread(raws.map((r) => r.recordsPerSecond))} | ${median(raws.map((r) => r.seconds)).toFixed(2)} |`,
  );
  console.log(
    `| (b) compare job through the gateway (upload, run, result) | ${Math.round(result.job.medianRecordsPerSecond)} | ${spread(jobs.map((j) => j.recordsPerSecond))} | ${median(jobs.map((j) => j.seconds)).toFixed(2)} |`,
  );
  console.log(
    `\n(b)/(a): median ${result.ratio.median.toFixed(3)} (rounds ${ratios.map((r) => r.toFixed(3)).join(', ')}; target ≥ 0.5). Job phases (median s): upload ${median(jobs.map((j) => j.uploadSeconds)).toFixed(2)}, run ${median(jobs.map((j) => j.runSeconds)).toFixed(2)}, download ${median(jobs.map((j) => j.downloadSeconds)).toFixed(2)}. 100-record job of another unit during the big one: median ${result.smallJobSeconds.median.toFixed(2)} s, max ${result.smallJobSeconds.max.toFixed(2)} s (target ≤ 2 s). RSS MiB idle → peak: gateway ${idle.gateway.toFixed(0)} → ${peak.gateway.toFixed(0)} (+${result.rssMiB.growth.gateway.toFixed(0)}), data-query ${idle.dataQuery.toFixed(0)} → ${peak.dataQuery.toFixed(0)} (+${result.rssMiB.growth.dataQuery.toFixed(0)}); target ≤ +60.`,
  );
  const dir = join(__dirname, 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `compare-${result.when.replace(/[:.]/g, '-')}.json`), `${JSON.stringify(result, null, 2)}\n`);
  await p.stop({ keep: !!a.keep });
  setTimeout(() => process.exit(0), 1000).unref();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
