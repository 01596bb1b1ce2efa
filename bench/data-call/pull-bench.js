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
const { mkdirSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
const { waitFor } = require('../lib/scratch');
const { cliArgs, median, rssPeaks, spread } = require('../lib/figures');
const { bootPlatform, log, CODE } = require('../lib/platform');

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

async function main() {
  const a = cliArgs({ rows: 1_000_000, rounds: 5, keep: 0 });
  const { referenceData } = require('@gdx/codes');
  const p = await bootPlatform({ dbName: 'gdx_bench_data_call', unitKeys: ['OFFICE', 'GA', 'LZH'], rows: a.rows, profile: process.env.BENCH_PROFILE });
  const { u, children, pool } = p;
  const loaded = p.loaded;
  // A district's grant: masked identity numbers and names, the row filter over every region code (so both sides test it on every row).
  await p.issueDataCallGrant('0190f000-0000-7000-8000-00000000c001', 'LZH', ['idNumber', 'name', 'sex', 'birthDate', 'regionCode']);
  const regions = Object.keys(referenceData().regions);
  const token = await p.clientToken('LZH');
  await waitFor('the grant at the gateway and data-query', async () => {
    const res = await fetch(`${u('gateway')}/api/v1/data/${encodeURIComponent(CODE)}/records?since=${encodeURIComponent(Buffer.from(JSON.stringify([CODE, '1'])).toString('base64url'))}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    await res.arrayBuffer();
    return res.status === 200;
  });
  const copySql = `COPY (SELECT id_number, name, sex, birth_date, region_code FROM data_query_rows.r_101001_0001 WHERE _deleted_at IS NULL AND region_code = ANY('{${regions.join(',')}}'::text[])) TO STDOUT`;

  const { idle, peak, stop: stopSampling } = rssPeaks(children);
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
  stopSampling();

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
  await p.stop({ keep: !!a.keep });
  setTimeout(() => process.exit(0), 1000).unref();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
