import { serve } from '@gdx/service-kit';
import { buildApp, loadCatalogueConfig } from './app';

serve(
  () => loadCatalogueConfig(),
  (config) => buildApp({ config, defaultMetrics: true }),
);
