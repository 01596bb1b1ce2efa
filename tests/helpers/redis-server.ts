import { spawn, type ChildProcess } from 'node:child_process';
import { freePort } from './platform';

/** A Redis of the test's own (no persistence), on a free loopback port: one the test may kill without touching anyone else's. */
export interface OwnRedis {
  url: string;
  port: number;
  /** SIGKILL: everything it held is gone. */
  kill: () => Promise<void>;
  /** Starts it again, empty, on the same port. */
  restart: () => Promise<void>;
  stop: () => Promise<void>;
}

function launch(port: number): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const p = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (b: Buffer) => {
      out += b.toString();
      if (out.includes('Ready to accept connections')) resolve(p);
    });
    p.on('error', reject);
    p.on('exit', (code) => reject(new Error(`redis-server exited (${code}): ${out.slice(-500)}`)));
  });
}

function gone(p: ChildProcess | undefined, signal: NodeJS.Signals): Promise<void> {
  if (!p || p.exitCode !== null || p.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    p.once('exit', () => resolve());
    p.kill(signal);
  });
}

export async function startOwnRedis(): Promise<OwnRedis> {
  const port = await freePort();
  let server: ChildProcess | undefined = await launch(port);
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    kill: async () => {
      await gone(server, 'SIGKILL');
      server = undefined;
    },
    restart: async () => {
      server = await launch(port);
    },
    stop: async () => {
      await gone(server, 'SIGKILL');
      server = undefined;
    },
  };
}
