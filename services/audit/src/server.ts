import { serve } from '@gdx/service-kit';
import { buildApp, loadAuditConfig } from './app';

serve(
  () => loadAuditConfig(),
  (config) => buildApp({ config, defaultMetrics: true }),
);
