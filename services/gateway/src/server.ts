import { serve } from '@gdx/service-kit';
import { buildApp, loadGatewayConfig } from './app';

serve(
  () => loadGatewayConfig(),
  (config) => buildApp({ config, defaultMetrics: true }),
);
