#!/usr/bin/env node
'use strict';
/**
 * Issue 12's webhook fan-out target: 1,000 changed rows to 20 subscribers delivered and
 * acknowledged in the same run, deliveries/s reported.
 *
 *   npm run bench:data-call:fanout -- [--rows 20000] [--subscribers 20] [--changed 1000] [--rounds 3] [--keep 0]
 *
 * Scratch database, the gateway, data-query and request-approval as processes (their deployed node
 * flags, k8s/base; data-query allowing loopback receivers and polling every 20 ms), the population
 * table COPYed in, a data-call grant to LZH. LZH's unit admin subscribes 20 webhooks (one path each on
 * one node:http receiver on 127.0.0.1 that answers 204 at once). Each round, GA's unit admin POSTs one
 * batch of --changed upserts of existing people (new names) through the gateway; measured from the
 * batch's 200 until every subscriber has acknowledged every changed row. Reported: deliveries, rows,
 * seconds, deliveries/s and rows/s, per-subscriber latency of its first and last delivery (median, max).
 * One delivery per subscriber is checked with verifyWebhook. Results go to bench/data-call/results/.
 */
const { mkdirSync, writeFileSync } = require('node:fs');
const { createServer } = require('node:http');
const { join } = require('node:path');
const { waitFor } = require('../lib/scratch');
const { cliArgs, median } = require('../lib/figures');
const { bootPlatform, log, CODE } = require('../lib/platform');

const ITEMS = ['idNumber', 'name', 'sex', 'birthDate', 'regionCode'];
const POLL_MS = 20;

const ms = (ns) => Number(ns) / 1e6;

async function main() {
  const a = cliArgs({ rows: 20_000, subscribers: 20, changed: 1000, rounds: 3, keep: 0 });
  if (a.rounds * a.changed > a.rows) throw new Error('--rounds × --changed must not exceed --rows (each round changes other existing rows)');
  const { personOf, verifyWebhook } = require('@gdx/data-query/testing');

  // The receiver: one path per subscriber; answers 204 at once, records arrival, rows, and the first delivery's bytes.
  let current = null; // the round being measured
  const stray = [];
  const receiver = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const at = process.hrtime.bigint();
      res.writeHead(204).end();
      const body = Buffer.concat(chunks);
      let rows = 0;
      for (let i = body.indexOf(10), last = -1; ; last = i, i = body.indexOf(10, i + 1)) {
        if (i === -1) {
          if (body.length - last - 1 > 0) rows++;
          break;
        }
        if (i - last > 1) rows++;
      }
      const sub = current?.bySub.get(req.url);
      if (!sub) return stray.push({ path: req.url, rows });
      sub.deliveries++;
      sub.rows += rows;
      sub.first ??= at;
      sub.last = at;
      if (!sub.sample) sub.sample = { headers: { ...req.headers }, body };
      if (current.rowsLeft() === 0) current.done();
    });
  });
  await new Promise((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const receiverPort = receiver.address().port;

  const p = await bootPlatform({
    dbName: 'gdx_bench_fanout',
    unitKeys: ['OFFICE', 'GA', 'LZH'],
    rows: a.rows,
    // data-query only reads these: loopback receivers over http, a short idle poll; retries, concurrency and max rows stay at their defaults.
    env: { 'data-query': { WEBHOOK_REQUIRE_HTTPS: 'false', WEBHOOK_ALLOW: '127.0.0.1/32', WEBHOOK_POLL_MS: String(POLL_MS) } },
  });
  const { u, pool } = p;
  const loaded = p.loaded;
  log('receiver', receiverPort);
  await p.issueDataCallGrant('0190f000-0000-7000-8000-00000000f001', 'LZH', ITEMS);
  const login = (unitKey) => p.accountToken(unitKey);
  const consumerToken = await login('LZH');
  const providerToken = await login('GA');

  const hookPath = (k) => `/s${String(k).padStart(2, '0')}`;
  const subscribe = (k) =>
    fetch(`${u('gateway')}/api/v1/subscriptions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${consumerToken}` },
      body: JSON.stringify({ resourceCode: CODE, url: `http://127.0.0.1:${receiverPort}${hookPath(k)}` }),
    });
  const subs = [];
  let first;
  await waitFor('the grant at data-query (a subscription accepted)', async () => {
    const res = await subscribe(1);
    if (res.status !== 201) {
      first = `${res.status} ${await res.text()}`;
      return false;
    }
    subs.push({ path: hookPath(1), ...(await res.json()) });
    return true;
  }).catch((err) => {
    throw new Error(`${err.message}; last answer: ${first}`);
  });
  for (let k = 2; k <= a.subscribers; k++) {
    const res = await subscribe(k);
    if (res.status !== 201) throw new Error(`subscription ${k} answered ${res.status}: ${await res.text()}`);
    subs.push({ path: hookPath(k), ...(await res.json()) });
  }
  log(`${subs.length} subscriptions`);

  const rounds = [];
  const verified = new Set();
  for (let round = 1; round <= a.rounds; round++) {
    const people = Array.from({ length: a.changed }, (_, j) => personOf((round - 1) * a.changed + j));
    const body = people.map((p, j) => JSON.stringify({ idNumber: p.idNumber, name: `张三${round}${j}`, sex: p.sex, birthDate: p.birthDate, regionCode: p.regionCode })).join('\n');
    const bySub = new Map(subs.map((s) => [s.path, { deliveries: 0, rows: 0, first: null, last: null, sample: null }]));
    let done;
    const finished = new Promise((resolve) => (done = resolve));
    current = { bySub, rowsLeft: () => [...bySub.values()].reduce((n, s) => n + Math.max(0, a.changed - s.rows), 0), done: () => done() };
    const posted = process.hrtime.bigint();
    const res = await fetch(`${u('gateway')}/api/v1/data/${encodeURIComponent(CODE)}/batches`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-ndjson', authorization: `Bearer ${providerToken}` },
      body,
    });
    const answer = await res.text();
    const accepted = process.hrtime.bigint();
    if (res.status !== 200) throw new Error(`batch answered ${res.status}: ${answer}`);
    const result = JSON.parse(answer);
    if (result.upserted !== a.changed) throw new Error(`batch upserted ${result.upserted} rows, not ${a.changed}: ${answer}`);
    const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error(`round ${round}: ${current.rowsLeft()} rows still unacknowledged after 120 s`)), 120_000).unref());
    await Promise.race([finished, timeout]);
    const end = process.hrtime.bigint();
    current = null;
    const per = [...bySub.values()];
    for (const [i, s] of per.entries()) {
      if (s.rows !== a.changed) throw new Error(`round ${round}: subscriber ${subs[i].path} got ${s.rows} rows, not ${a.changed}`);
      if (!verified.has(i)) {
        if (!verifyWebhook(subs[i].secret, s.sample.headers, s.sample.body)) throw new Error(`round ${round}: the delivery to ${subs[i].path} failed verifyWebhook`);
        verified.add(i);
      }
    }
    const seconds = ms(end - accepted) / 1000;
    const deliveries = per.reduce((n, s) => n + s.deliveries, 0);
    const rows = per.reduce((n, s) => n + s.rows, 0);
    const firstMs = per.map((s) => ms(s.first - accepted));
    const lastMs = per.map((s) => ms(s.last - accepted));
    const r = {
      round,
      batchMs: ms(accepted - posted),
      changeSeq: result.changeSeq,
      deliveries,
      rows,
      seconds,
      deliveriesPerSecond: deliveries / seconds,
      rowsPerSecond: rows / seconds,
      firstDeliveryMs: { median: median(firstMs), max: Math.max(...firstMs) },
      lastDeliveryMs: { median: median(lastMs), max: Math.max(...lastMs) },
    };
    rounds.push(r);
    log(
      `round ${round}: batch of ${a.changed} accepted in ${r.batchMs.toFixed(0)} ms; ${deliveries} deliveries, ${rows} rows acknowledged in ${seconds.toFixed(3)} s (${r.deliveriesPerSecond.toFixed(1)} deliveries/s, ${Math.round(r.rowsPerSecond)} rows/s); first delivery median ${r.firstDeliveryMs.median.toFixed(0)} ms, max ${r.firstDeliveryMs.max.toFixed(0)}; last median ${r.lastDeliveryMs.median.toFixed(0)} ms, max ${r.lastDeliveryMs.max.toFixed(0)}`,
    );
  }
  // Anything arriving afterwards would be a duplicate or a stray: give it a moment to show.
  await new Promise((r) => setTimeout(r, 500));

  const { rows: logRows } = await pool.query(`SELECT status, count(*)::int AS n, sum(attempts)::int AS attempts FROM webhook_delivery GROUP BY status ORDER BY status`);
  const med = (f) => median(rounds.map(f));
  const result = {
    when: new Date().toISOString(),
    command: `node bench/data-call/fanout-bench.js ${process.argv.slice(2).join(' ')}`.trim(),
    tableRows: loaded,
    subscribers: subs.length,
    changedRowsPerRound: a.changed,
    config: { webhookPollMs: POLL_MS, webhookConcurrency: 16, webhookMaxRows: 1000, note: 'concurrency and max rows at their defaults' },
    medians: {
      seconds: med((r) => r.seconds),
      deliveriesPerSecond: med((r) => r.deliveriesPerSecond),
      rowsPerSecond: med((r) => r.rowsPerSecond),
      firstDeliveryMedianMs: med((r) => r.firstDeliveryMs.median),
      lastDeliveryMedianMs: med((r) => r.lastDeliveryMs.median),
      lastDeliveryMaxMs: med((r) => r.lastDeliveryMs.max),
    },
    rounds,
    deliveryLog: logRows,
    strayDeliveries: stray,
  };
  console.log('\n| round | deliveries | rows | seconds | deliveries/s | rows/s | first delivery ms (median / max) | last delivery ms (median / max) |\n|---|---|---|---|---|---|---|---|');
  for (const r of rounds)
    console.log(
      `| ${r.round} | ${r.deliveries} | ${r.rows} | ${r.seconds.toFixed(3)} | ${r.deliveriesPerSecond.toFixed(1)} | ${Math.round(r.rowsPerSecond)} | ${r.firstDeliveryMs.median.toFixed(0)} / ${r.firstDeliveryMs.max.toFixed(0)} | ${r.lastDeliveryMs.median.toFixed(0)} / ${r.lastDeliveryMs.max.toFixed(0)} |`,
    );
  const m = result.medians;
  console.log(
    `\nMedians over ${rounds.length} rounds: ${m.seconds.toFixed(3)} s for ${a.changed} rows × ${subs.length} subscribers; ${m.deliveriesPerSecond.toFixed(1)} deliveries/s, ${Math.round(m.rowsPerSecond)} rows/s; last delivery per subscriber median ${m.lastDeliveryMedianMs.toFixed(0)} ms, max ${m.lastDeliveryMaxMs.toFixed(0)} ms. Signatures verified on ${verified.size}/${subs.length} subscribers. Delivery log: ${logRows.map((x) => `${x.status} ${x.n} (${x.attempts} attempts)`).join(', ')}; stray deliveries: ${stray.length}.`,
  );
  const dir = join(__dirname, 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `fanout-${result.when.replace(/[:.]/g, '-')}.json`), `${JSON.stringify(result, null, 2)}\n`);
  receiver.close();
  await p.stop({ keep: !!a.keep });
  setTimeout(() => process.exit(0), 1000).unref();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
