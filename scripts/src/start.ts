/**
 * `npm start`: migrations, demo data, then the five services as separate processes
 * with prefixed logs. Ctrl-C stops them all (SIGTERM, then they close with grace).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { migrateAll } from './migrate';
import { seedAll, resetNotice, CREDENTIALS_FILE } from './seed';
import { DEFAULT_DATABASE_URL } from './database';
import { preflight } from './preflight';

/**
 * `node` flags per service, as k8s/base runs them: audit ingestion allocates a short-lived
 * envelope, draft and canonical text per event, so it gets a larger young generation (less
 * garbage-collection time) and a bounded old one (docs/benchmarks.md).
 */
const SERVICES = [
  { name: 'gateway', port: 8080, colour: 36, nodeFlags: [] as string[] },
  { name: 'catalogue', port: 8081, colour: 32, nodeFlags: [] },
  { name: 'request-approval', port: 8082, colour: 33, nodeFlags: [] },
  { name: 'data-query', port: 8083, colour: 35, nodeFlags: [] },
  { name: 'audit', port: 8084, colour: 34, nodeFlags: ['--max-semi-space-size=32', '--max-old-space-size=320'] },
];

const env = process.env;
const databaseUrl = env.DATABASE_URL ?? DEFAULT_DATABASE_URL;
const width = Math.max(...SERVICES.map((s) => s.name.length));

function format(line: string): string {
  try {
    const o = JSON.parse(line) as Record<string, unknown>;
    const time = typeof o.time === 'string' ? o.time.slice(11, 19) : '';
    const text = (v: unknown) => (typeof v === 'string' || typeof v === 'number' ? String(v) : '');
    const extra = o.route ? ` ${text(o.method)} ${text(o.route)} ${text(o.status)} ${text(o.ms)}ms` : '';
    const err = o.err && typeof o.err === 'object' ? ` ${String((o.err as { message?: string }).message ?? '')}` : '';
    return `${time} ${text(o.level).padEnd(5)} ${text(o.msg)}${extra}${err}`;
  } catch {
    return line;
  }
}

function url(port: number): string {
  return `http://127.0.0.1:${port}`;
}

async function waitReady(port: number, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try {
      const r = await fetch(`${url(port)}/health/ready`, { signal: AbortSignal.timeout(1000) });
      if (r.ok) return true;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return false;
}

async function main(): Promise<void> {
  const problem = await preflight(databaseUrl, env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  if (problem) {
    console.error(`gdx: ${problem}`);
    process.exit(1);
  }
  console.log('gdx: applying migrations…');
  await migrateAll(databaseUrl, (s) => console.log(`  ${s}`));
  console.log('gdx: seeding demo data…');
  const creds = await seedAll(databaseUrl);
  const notice = resetNotice(creds.reset);
  if (notice) console.log(`gdx: ${notice}`);

  const ports = Object.fromEntries(SERVICES.map((s) => [s.name, Number(env[`GDX_${s.name.toUpperCase().replace('-', '_')}_PORT`] ?? s.port)]));
  const children: ChildProcess[] = [];
  let stopping = false;
  for (const s of SERVICES) {
    const child = spawn(process.execPath, [...s.nodeFlags, `services/${s.name}/dist/server.js`], {
      stdio: ['ignore', 'pipe', 'pipe'],
      // Their own process group: a terminal's Ctrl-C reaches only this script, which sends each
      // service exactly one SIGTERM (a second signal would cut its graceful close short).
      detached: true,
      env: {
        ...env,
        PORT: String(ports[s.name]),
        DATABASE_URL: databaseUrl,
        MIGRATE_ON_START: 'false',
        JWKS_URL: env.JWKS_URL ?? `${url(ports.gateway)}/.well-known/jwks.json`,
        GATEWAY_URL: env.GATEWAY_URL ?? url(ports.gateway),
        CATALOGUE_URL: url(ports.catalogue),
        REQUEST_APPROVAL_URL: url(ports['request-approval']),
        DATA_QUERY_URL: url(ports['data-query']),
        AUDIT_URL: url(ports.audit),
      },
    });
    const tag = `\x1b[${s.colour}m${s.name.padEnd(width)}\x1b[0m |`;
    for (const stream of [child.stdout, child.stderr]) createInterface({ input: stream }).on('line', (l) => console.log(`${tag} ${format(l)}`));
    child.on('exit', (code, signal) => {
      console.log(`${tag} exited (${signal ?? code})`);
      if (!stopping) shutdown(1);
    });
    children.push(child);
  }

  function shutdown(code: number): void {
    if (stopping) return;
    stopping = true;
    console.log('gdx: stopping…');
    for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
    void Promise.all(children.map((c) => (c.exitCode !== null ? Promise.resolve() : new Promise((r) => c.on('exit', r))))).then(() => process.exit(code));
    setTimeout(() => process.exit(code), 15_000).unref();
  }
  process.on('exit', () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  });
  process.on('SIGINT', () => shutdown(0));
  process.on('SIGTERM', () => shutdown(0));

  const ready = await Promise.all(SERVICES.map((s) => waitReady(ports[s.name], 30_000)));
  if (stopping) return;
  const gw = url(ports.gateway);
  const office = creds.accounts.find((a) => a.username === 'office.admin');
  const client = creds.clients.find((c) => c.unit === 'RS') ?? creds.clients[0];
  console.log(`
gdx is ${ready.every(Boolean) ? 'up' : 'partly up (see the logs above)'}.
  gateway      ${gw}
  API docs     ${gw}/docs   (document: ${gw}/openapi.json)
  JWKS         ${gw}/.well-known/jwks.json
  office admin ${office ? `${office.username} / ${office.password}` : 'see ' + CREDENTIALS_FILE}
  a client     ${client ? `${client.clientId} / ${client.clientSecret}` : 'see ' + CREDENTIALS_FILE}
  all demo credentials: ${CREDENTIALS_FILE}${creds.reset.length ? `\n  (demo secrets reset on this start: ${creds.reset.join(', ')})` : ''}

  curl -s -X POST ${gw}/api/v1/auth/token -d grant_type=client_credentials -d client_id=${client?.clientId ?? 'ID'} -d client_secret=${client?.clientSecret ?? 'SECRET'}
Ctrl-C stops everything.
`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
