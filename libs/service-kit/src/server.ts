import closeWithGrace from 'close-with-grace';
import type { FastifyInstance } from 'fastify';
import { startupFailure } from './startup-hint';

/**
 * What every service's server.ts does: listen, and on SIGINT/SIGTERM stop taking
 * requests, finish what is in flight, release connections, exit.
 */
export async function listen(app: FastifyInstance, options: { host: string; port: number; graceMs: number }): Promise<void> {
  closeWithGrace({ delay: options.graceMs }, async ({ signal, err }) => {
    if (err) app.log.error({ err }, 'shutting down after an error');
    else app.log.info({ signal }, 'shutting down');
    await app.close();
  });
  try {
    await app.listen({ host: options.host, port: options.port });
  } catch (err) {
    app.log.error({ err }, 'could not start');
    process.exit(1);
  }
}

/** What a service's configuration must say for it to be started and served. */
interface ServedConfig {
  host: string;
  port: number;
  shutdownGraceMs: number;
  databaseUrl: string;
  redisUrl: string;
}

/**
 * A service's server.ts: reads its configuration, builds the app, listens. A start that fails
 * exits 1 with one message: for want of PostgreSQL or Redis, which address it tried and how to
 * get one (startupFailure); for a bad setting, the variable and why.
 */
export function serve<C extends ServedConfig>(load: () => C, build: (config: C) => Promise<FastifyInstance>): void {
  let config: C | undefined;
  const start = async () => {
    config = load();
    const app = await build(config);
    await listen(app, { host: config.host, port: config.port, graceMs: config.shutdownGraceMs });
  };
  start().catch((err: unknown) => {
    console.error(config ? startupFailure(err, config) : err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
