import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './platform';
import { referenceData } from '@gdx/codes';
import { gatewayDataSource, seedIdentity, type SeededCredentials, Unit } from '@gdx/gateway';
import { REDIS_URL } from './redis';

export const SERVICE_NAMES = ['gateway', 'catalogue', 'request-approval', 'data-query', 'audit'] as const;
export type ProcessName = (typeof SERVICE_NAMES)[number];

export interface RunningPlatform {
  urls: Record<ProcessName, string>;
  logs: Record<string, string[]>;
  /** Starts one more replica of a service with the same wiring; resolves with its URL once ready. */
  replica: (name: ProcessName) => Promise<string>;
  /** Sends SIGTERM to one service's process (by name, or a replica's tag `name#n`); resolves with its exit code. */
  terminate: (tag: string) => Promise<number>;
  /** Kills one service's process at once (SIGKILL: no drain, no cleanup); resolves when it is gone. */
  kill: (tag: string) => Promise<void>;
  /** Sends a signal that does not end it (SIGSTOP: a hung peer; SIGCONT: back). */
  signal: (tag: string, signal: 'SIGSTOP' | 'SIGCONT') => void;
  stop: () => Promise<number[]>;
}

/**
 * The real thing: each service started from its built server.js as its own process,
 * wired by environment variables as `npm start` and Kubernetes do.
 */
export async function startProcesses(databaseUrl: string, prefix: string, names: readonly ProcessName[] = SERVICE_NAMES, extraEnv: Record<string, string> = {}): Promise<RunningPlatform> {
  const ports = {} as Record<ProcessName, number>;
  for (const n of SERVICE_NAMES) ports[n] = await freePort();
  const urls = Object.fromEntries(SERVICE_NAMES.map((n) => [n, `http://127.0.0.1:${ports[n]}`])) as Record<ProcessName, string>;
  const root = join(__dirname, '..', '..');
  const children: ChildProcess[] = [];
  const byTag = new Map<string, ChildProcess>();
  const logs: Record<string, string[]> = {};
  const keysDir = mkdtempSync(join(tmpdir(), 'gdx-keys-'));
  const auditKeysDir = mkdtempSync(join(tmpdir(), 'gdx-audit-keys-'));
  const manifestKeysDir = mkdtempSync(join(tmpdir(), 'gdx-manifest-keys-'));
  const spawnOne = (n: ProcessName, port: number, tag: string) => {
    logs[tag] = [];
    const child = spawn(process.execPath, [join(root, 'services', n, 'dist', 'server.js')], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        PATH: process.env.PATH,
        PORT: String(port),
        HOST: '127.0.0.1',
        DATABASE_URL: databaseUrl,
        REDIS_URL,
        STREAM_PREFIX: prefix,
        MIGRATE_ON_START: 'false',
        LOG_LEVEL: 'warn',
        DATABASE_POOL_SIZE: '4',
        KEYS_DIR: keysDir,
        AUDIT_KEYS_DIR: auditKeysDir,
        MANIFEST_KEYS_DIR: manifestKeysDir,
        JWKS_URL: `${urls.gateway}/.well-known/jwks.json`,
        GATEWAY_URL: urls.gateway,
        CATALOGUE_URL: urls.catalogue,
        REQUEST_APPROVAL_URL: urls['request-approval'],
        DATA_QUERY_URL: urls['data-query'],
        AUDIT_URL: urls.audit,
        ...extraEnv,
      },
    });
    child.stdout.on('data', (b: Buffer) => logs[tag].push(b.toString()));
    child.stderr.on('data', (b: Buffer) => logs[tag].push(b.toString()));
    children.push(child);
    byTag.set(tag, child);
  };
  const waitReady = async (url: string, tag: string) => {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const ok = await fetch(`${url}/health/ready`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) return;
      if (Date.now() > deadline) {
        for (const c of children) c.kill('SIGKILL');
        throw new Error(`${tag} did not become ready:\n${logs[tag].join('')}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  const terminate = (c: ChildProcess) =>
    new Promise<number>((resolve) => {
      if (c.exitCode !== null || c.signalCode !== null) return resolve(c.exitCode ?? -1);
      const t = setTimeout(() => c.kill('SIGKILL'), 20_000);
      c.on('exit', (code) => {
        clearTimeout(t);
        resolve(code ?? -1);
      });
      c.kill('SIGTERM');
    });
  for (const n of names) spawnOne(n, ports[n], n);
  for (const n of names) await waitReady(urls[n], n);
  let replicas = 0;
  return {
    urls,
    logs,
    replica: async (n) => {
      const port = await freePort();
      const tag = `${n}#${++replicas}`;
      spawnOne(n, port, tag);
      await waitReady(`http://127.0.0.1:${port}`, tag);
      return `http://127.0.0.1:${port}`;
    },
    terminate: (tag) => {
      const c = byTag.get(tag);
      if (!c) throw new Error(`no process ${tag}`);
      return terminate(c);
    },
    kill: (tag) => {
      const c = byTag.get(tag);
      if (!c) throw new Error(`no process ${tag}`);
      if (c.exitCode !== null || c.signalCode !== null) return Promise.resolve();
      return new Promise<void>((resolve) => {
        c.once('exit', () => resolve());
        c.kill('SIGKILL');
      });
    },
    signal: (tag, signal) => {
      const c = byTag.get(tag);
      if (!c) throw new Error(`no process ${tag}`);
      c.kill(signal);
    },
    // A stopped process cannot end: it is woken first.
    stop: () => Promise.all(children.map((c) => (c.kill('SIGCONT'), terminate(c)))),
  };
}

/** Seeds reference units (by key) with their accounts and clients, as `npm start` does; answers the credentials and each unit's id. */
export async function seedUnits(databaseUrl: string, keys: string[]): Promise<{ creds: SeededCredentials; units: Record<string, string> }> {
  const ds = gatewayDataSource(databaseUrl, 2);
  await ds.initialize();
  try {
    const creds = await seedIdentity(
      ds,
      referenceData().units.filter((u) => keys.includes(u.key)),
    );
    const units = Object.fromEntries((await ds.getRepository(Unit).find()).map((u) => [u.key, u.id]));
    return { creds, units };
  } finally {
    await ds.destroy();
  }
}

/** Runs one of the repository's built scripts (`scripts/dist/…`, `services/…/dist/…`) with only PATH and `env`; answers its exit code and everything it printed. */
export function runNode(script: string, args: string[] = [], env: Record<string, string> = {}): Promise<{ code: number | null; out: string }> {
  const root = join(__dirname, '..', '..');
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(root, script), ...args], { cwd: root, env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    child.on('exit', (code) => resolve({ code, out }));
  });
}
