'use strict';
/**
 * The platform as the data-call benchmarks run it: a scratch database with every service's
 * migrations, reference units seeded, the gateway, data-query and request-approval as processes
 * (their deployed node flags), the population resource published and `rows` rows COPYed in.
 * Everything on loopback; `stop()` ends the processes, the Redis keys and (unless `keep`) the database.
 */
const { spawn } = require('node:child_process');
const { existsSync, mkdtempSync, statSync } = require('node:fs');
const { randomBytes } = require('node:crypto');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const net = require('node:net');
const { REDIS_URL, freshDatabase, waitFor, deployedNodeArgs, admin } = require('./scratch');

const ROOT = join(__dirname, '..', '..');
const CODE = '101001/0001';
const log = (...m) => console.log(`[${new Date().toISOString().slice(11, 19)}]`, ...m);

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** `env`: extra environment per service name; `profile`: a directory for CPU profiles of the gateway and data-query. */
async function bootPlatform({ dbName, unitKeys, rows, env = {}, profile }) {
  const { Pool } = require('pg');
  const { Redis } = require('ioredis');
  const { migrate } = require('@gdx/database');
  const { streamKey } = require('@gdx/events');
  const { createEvent } = require('@gdx/contracts');
  const { referenceData } = require('@gdx/codes');
  const { SERVICE_DATABASES } = require('@gdx/scripts');
  const { gatewayDataSource, seedIdentity, Unit } = require('@gdx/gateway');
  const { DatasetRegistry, copyNdjsonIntoDataset, writeNdjson, starterResources, starterResourceView } = require('@gdx/data-query/testing');

  const prefix = `bench:${dbName}:${randomBytes(4).toString('hex')}:`;
  const url = await freshDatabase(dbName);
  for (const s of SERVICE_DATABASES) await migrate(s.dataSource(url));
  const ds = gatewayDataSource(url, 2);
  await ds.initialize();
  const creds = await seedIdentity(
    ds,
    referenceData().units.filter((u) => unitKeys.includes(u.key)),
  );
  const units = Object.fromEntries((await ds.getRepository(Unit).find()).map((u) => [u.key, u.id]));
  await ds.destroy();

  const names = ['gateway', 'data-query', 'request-approval'];
  const ports = Object.fromEntries(await Promise.all(names.map(async (n) => [n, await freePort()])));
  const u = (n) => `http://127.0.0.1:${ports[n]}`;
  const keysDir = mkdtempSync(join(tmpdir(), 'gdx-bench-keys-'));
  const manifestKeysDir = mkdtempSync(join(tmpdir(), 'gdx-bench-manifest-keys-'));
  const children = {};
  for (const name of names) {
    const flags = name !== 'request-approval' && profile ? ['--cpu-prof', `--cpu-prof-dir=${profile}`] : [];
    children[name] = spawn(process.execPath, [...deployedNodeArgs(name), ...flags, join(ROOT, 'services', name, 'dist', 'server.js')], {
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'inherit'],
      env: {
        PATH: process.env.PATH,
        PORT: String(ports[name]),
        HOST: '127.0.0.1',
        DATABASE_URL: url,
        REDIS_URL,
        STREAM_PREFIX: prefix,
        MIGRATE_ON_START: 'false',
        LOG_LEVEL: 'warn',
        KEYS_DIR: keysDir,
        MANIFEST_KEYS_DIR: manifestKeysDir,
        GENERATE_KEYS: 'true',
        JWKS_URL: `${u('gateway')}/.well-known/jwks.json`,
        GATEWAY_URL: u('gateway'),
        DATA_QUERY_URL: u('data-query'),
        REQUEST_APPROVAL_URL: u('request-approval'),
        CATALOGUE_URL: 'http://127.0.0.1:9',
        AUDIT_URL: 'http://127.0.0.1:9',
        ...env[name],
      },
    });
  }
  const stopProcesses = () => Object.values(children).forEach((c) => c.kill('SIGTERM'));
  process.on('exit', stopProcesses);
  for (const name of names) await waitFor(name, async () => (await fetch(`${u(name)}/health/ready`)).ok);
  log('services up', ports);

  const redis = new Redis(REDIS_URL);
  const pool = new Pool({ connectionString: url, max: 4, options: '-c search_path=data_query,public' });
  const xadd = (domain, type, subject, data) => redis.xadd(streamKey(prefix, domain), '*', 'event', JSON.stringify(createEvent(type, { actor: { kind: 'system' }, subject, data })));
  await xadd('resource', 'resource.published', CODE, starterResourceView(CODE, units.GA));
  await waitFor('the population table', async () => (await pool.query('SELECT 1 FROM dataset WHERE code = $1', [CODE])).rowCount === 1);
  const file = join(tmpdir(), `gdx-population-${rows}.ndjson`);
  if (!existsSync(file) || statSync(file).size === 0) {
    log(`generating ${rows} rows → ${file}`);
    await writeNdjson(
      file,
      starterResources().find((r) => r.code === CODE),
      rows,
    );
  }
  const registry = new DatasetRegistry(pool);
  await registry.reload(CODE);
  const client = await pool.connect();
  const loaded = await copyNdjsonIntoDataset(client, registry.get(CODE), file);
  client.release();
  await pool.query('ANALYZE data_query_rows.r_101001_0001');
  log(`loaded ${loaded} rows`);

  /**
   * A grant as request-approval would issue it, published as its event: by default of the data-call mode with a row
   * filter over every region code (the filter tested on every row).
   */
  const issueGrant = async (id, consumerKey, items, { modes = ['data-call'], rowFilter = { all: [{ key: 'regionCode', op: 'in', value: Object.keys(referenceData().regions) }] } } = {}) => {
    const grant = {
      id,
      consumerUnitId: units[consumerKey],
      providerUnitId: units.GA,
      resourceCode: CODE,
      items,
      rowFilter,
      modes,
      rateLimitPerSecond: 1000,
      dailyQuota: 1_000_000_000,
      validFrom: new Date(Date.now() - 86_400_000).toISOString(),
      validTo: new Date(Date.now() + 86_400_000).toISOString(),
      purpose: 'benchmark',
      requestId: id.replace(/.$/, 'f'),
      status: 'active',
      statusReason: null,
      version: 1,
    };
    await xadd('grant', 'grant.issued', grant.id, grant);
    return grant;
  };
  const clientToken = async (unitKey) => {
    const c = creds.clients.find((x) => x.unit === unitKey);
    const res = await fetch(`${u('gateway')}/api/v1/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ grant_type: 'client_credentials', client_id: c.clientId, client_secret: c.clientSecret }),
    });
    return (await res.json()).access_token;
  };
  const accountToken = async (unitKey) => {
    const acc = creds.accounts.find((x) => x.unit === unitKey && x.roles.includes('unit_admin'));
    const res = await fetch(`${u('gateway')}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: acc.username, password: acc.password }),
    });
    if (res.status !== 200) throw new Error(`login of ${acc.username} answered ${res.status}: ${await res.text()}`);
    return (await res.json()).access_token;
  };
  const stop = async ({ keep = false } = {}) => {
    stopProcesses();
    const keys = [...(await redis.keys(`${prefix}*`)), ...(await redis.keys(`{${prefix}*`))];
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
    await pool.end();
    if (!keep) await admin(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).catch(() => undefined);
  };
  return { CODE, url, prefix, u, children, redis, pool, units, loaded, issueGrant, issueDataCallGrant: issueGrant, clientToken, accountToken, stop };
}

module.exports = { bootPlatform, freePort, log, CODE };
