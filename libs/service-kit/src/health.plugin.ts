import fp from 'fastify-plugin';
import { Type } from '@sinclair/typebox';
import { operationDoc } from './schemas';

declare module 'fastify' {
  interface FastifyInstance {
    /** Named checks behind /health/ready; each throws when its dependency is not usable. */
    readinessChecks: Map<string, () => Promise<void>>;
  }
}

/**
 * Thrown by a readiness check whose reason is safe to show on /health/ready
 * (`failed: <message>`, e.g. a count); any other error shows as `failed` only.
 */
export class ReadinessFailure extends Error {}

/**
 * Thrown by a check that found something an operator must fix but that does not stop the
 * service from serving now (e.g. Redis without persistence): shown as `warning: <message>`,
 * the service stays ready.
 */
export class ReadinessWarning extends Error {}

const HealthSchema = Type.Object({ status: Type.Union([Type.Literal('ok'), Type.Literal('unavailable')]), checks: Type.Optional(Type.Record(Type.String(), Type.String())) }, { $id: 'Health' });

export const healthPlugin = fp(
  async (app) => {
    const checks = new Map<string, () => Promise<void>>();
    app.decorate('readinessChecks', checks);
    app.get(
      '/health/live',
      {
        config: { public: true },
        schema: { tags: ['operations'], summary: 'Liveness: the process answers', ...operationDoc('Answers 200 while the process runs. Public; for orchestrators.'), response: { 200: HealthSchema } },
      },
      async () => ({
        status: 'ok' as const,
      }),
    );
    app.get(
      '/health/ready',
      {
        config: { public: true },
        schema: {
          tags: ['operations'],
          summary: 'Readiness: PostgreSQL, Redis and the service’s own checks',
          ...operationDoc('Answers 200 when the service can serve (its database, Redis and own checks pass), else 503 with the failing checks. Public; for orchestrators.'),
          response: { 200: HealthSchema, 503: HealthSchema },
        },
      },
      async (_req, reply) => {
        const results: Record<string, string> = {};
        let ok = true;
        await Promise.all(
          [...checks].map(async ([name, check]) => {
            try {
              await withTimeout(check(), 2_000);
              results[name] = 'ok';
            } catch (err) {
              if (err instanceof ReadinessWarning) {
                results[name] = `warning: ${err.message}`;
                return;
              }
              ok = false;
              results[name] = err instanceof ReadinessFailure ? `failed: ${err.message}` : 'failed';
            }
          }),
        );
        reply.code(ok ? 200 : 503);
        return { status: ok ? ('ok' as const) : ('unavailable' as const), checks: results };
      },
    );
  },
  { name: 'gdx-health', fastify: '5.x' },
);

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('timeout')), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}
