'use strict';
/**
 * What every benchmark needs: where PostgreSQL and Redis are (BENCH_DATABASE_URL, an
 * admin URL; BENCH_REDIS_URL), a scratch database of its own, and a wait with a deadline.
 */
const { Client } = require('pg');

const ADMIN_URL = process.env.BENCH_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.BENCH_REDIS_URL || 'redis://127.0.0.1:6379';

function dbUrl(name) {
  const u = new URL(ADMIN_URL);
  u.pathname = `/${name}`;
  return u.toString();
}

async function admin(sql) {
  const c = new Client({ connectionString: ADMIN_URL });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

/** Drops and creates the database; resolves with its URL. */
async function freshDatabase(name) {
  await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin(`CREATE DATABASE ${name}`);
  return dbUrl(name);
}

async function waitFor(what, probe, ms = 60_000) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await probe().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const { readFileSync, readdirSync } = require('node:fs');
const TICK_US = 1_000_000 / 100; // USER_HZ is 100 on Linux

/** CPU time (µs, user + system) of every process whose command name starts with one of `names`, by pid. */
function cpuByCommand(names) {
  const out = new Map();
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    let stat;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue;
    }
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const name = names.find((n) => comm.startsWith(n));
    if (name) out.set(pid, { name, cpu: (Number(fields[11]) + Number(fields[12])) * TICK_US });
  }
  return out;
}

/** CPU (µs) used between two cpuByCommand snapshots, by name, counting only processes alive at both. */
function cpuSpent(before, after) {
  const out = {};
  for (const [pid, a] of after) {
    const b = before.get(pid);
    out[a.name] = (out[a.name] ?? 0) + (b ? a.cpu - b.cpu : 0);
  }
  return out;
}

/** CPU time (µs) of one process by pid. */
function cpuOfPid(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * TICK_US;
}

/** Resident memory (MiB) of one process by pid; NaN once it is gone. */
function rssMiBOfPid(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** Machine-wide busy share from /proc/stat between two samples: tells a saturated box from an idle one. */
function cpuSample() {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  return { idle: f[3] + (f[4] || 0), total: f.reduce((x, y) => x + y, 0) };
}
const busyShare = (a, b) => 1 - (b.idle - a.idle) / (b.total - a.total);

/**
 * The `node` flags a service is deployed with (the command in k8s/base/<name>.yaml, between
 * `node` and the script), so benchmarks measure what runs. BENCH_NODE_ARGS_<NAME> (e.g.
 * BENCH_NODE_ARGS_DATA_QUERY="--max-old-space-size=128") replaces them for an experiment.
 */
function deployedNodeArgs(name) {
  const override = process.env[`BENCH_NODE_ARGS_${name.toUpperCase().replace(/-/g, '_')}`];
  if (override !== undefined) return override.split(' ').filter(Boolean);
  const { parseAllDocuments } = require('yaml');
  const { join } = require('node:path');
  const manifest = parseAllDocuments(readFileSync(join(__dirname, '..', '..', 'k8s', 'base', `${name}.yaml`), 'utf8'))
    .map((d) => d.toJSON())
    .find((d) => d?.kind === 'Deployment');
  return manifest.spec.template.spec.containers[0].command.slice(1, -1);
}

module.exports = { ADMIN_URL, REDIS_URL, dbUrl, admin, freshDatabase, waitFor, cpuByCommand, cpuSpent, cpuOfPid, cpuSample, busyShare, deployedNodeArgs, rssMiBOfPid };
