import closeWithGrace from 'close-with-grace';
import type { FastifyInstance } from 'fastify';

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
