import { listen, startupFailure } from '@gdx/service-kit';
import { buildApp, loadRequestApprovalConfig } from './app';

let target = { databaseUrl: '', redisUrl: '' };

async function main(): Promise<void> {
  const config = loadRequestApprovalConfig();
  target = config;
  const app = await buildApp({ config, defaultMetrics: true });
  await listen(app, { host: config.host, port: config.port, graceMs: config.shutdownGraceMs });
}

main().catch((err: unknown) => {
  console.error(target.databaseUrl ? startupFailure(err, target) : err instanceof Error ? err.message : err);
  process.exit(1);
});
