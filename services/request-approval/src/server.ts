import { serve } from '@gdx/service-kit';
import { buildApp, loadRequestApprovalConfig } from './app';

serve(
  () => loadRequestApprovalConfig(),
  (config) => buildApp({ config, defaultMetrics: true }),
);
