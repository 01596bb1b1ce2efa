import fp from 'fastify-plugin';
import { Histogram, Registry, collectDefaultMetrics } from 'prom-client';

declare module 'fastify' {
  interface FastifyInstance {
    metrics: Registry;
  }
}

export interface MetricsPluginOptions {
  service: string;
  /** Process metrics (memory, event loop lag); off in tests where many apps share a process. */
  defaultMetrics?: boolean;
}

export const metricsPlugin = fp<MetricsPluginOptions>(
  async (app, { service, defaultMetrics }) => {
    const registry = new Registry();
    registry.setDefaultLabels({ service });
    if (defaultMetrics) collectDefaultMetrics({ register: registry });
    const duration = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request duration by route and status',
      labelNames: ['method', 'route', 'status'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    });
    app.decorate('metrics', registry);
    app.addHook('onResponse', (request, reply, done) => {
      // The route pattern, never the raw URL: raw URLs would explode label cardinality.
      const route = request.routeOptions.url ?? 'unmatched';
      duration.observe({ method: request.method, route, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
      done();
    });
    app.get('/metrics', { config: { public: true }, schema: { hide: true } }, async (_req, reply) => {
      reply.type(registry.contentType);
      return registry.metrics();
    });
  },
  { name: 'gdx-metrics', fastify: '5.x' },
);
