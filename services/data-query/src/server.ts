import { serve } from '@gdx/service-kit';
import { buildApp, loadDataQueryConfig } from './app';

serve(
  () => loadDataQueryConfig(),
  (config) => buildApp({ config, defaultMetrics: true }),
);
