import { listen } from '@gdx/service-kit';
import { buildApp, loadCatalogueConfig } from './app';

async function main(): Promise<void> {
  const config = loadCatalogueConfig();
  const app = await buildApp({ config, defaultMetrics: true });
  await listen(app, { host: config.host, port: config.port, graceMs: config.shutdownGraceMs });
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
