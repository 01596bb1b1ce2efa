import { freePort } from '../helpers/platform';
import { runNode } from '../helpers/processes';
import { REDIS_URL } from '../helpers/redis';

/**
 * Issue 17: `npm start` (and a service) without PostgreSQL or Redis says which address it
 * tried, from which variable, and how to start one: not a bare ECONNREFUSED stack trace.
 * Nothing listens on the ports used here, and no database is touched.
 */
const run = (script: string, env: Record<string, string>) => runNode(script, [], env);

test('npm start without PostgreSQL names the address and DATABASE_URL (password hidden), and exits 1 without a stack trace', async () => {
  const port = await freePort();
  const { code, out } = await run('scripts/dist/start.js', { DATABASE_URL: `postgres://gdx:s3cret@127.0.0.1:${port}/gdx`, REDIS_URL });
  expect(code).toBe(1);
  expect(out).toContain(`cannot reach PostgreSQL at 127.0.0.1:${port} (DATABASE_URL=postgres://gdx:***@127.0.0.1:${port}/gdx): connect ECONNREFUSED`);
  expect(out).toMatch(/pg_ctlcluster .* start/);
  expect(out).not.toContain('s3cret');
  expect(out).not.toMatch(/\n\s+at /);
  expect(out).not.toContain('applying migrations');
});

test('npm start without Redis names the address and REDIS_URL before migrating anything', async () => {
  const port = await freePort();
  const { code, out } = await run('scripts/dist/start.js', { DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/postgres', REDIS_URL: `redis://127.0.0.1:${port}` });
  expect(code).toBe(1);
  expect(out).toContain(`cannot reach Redis at 127.0.0.1:${port} (REDIS_URL=redis://127.0.0.1:${port}): connect ECONNREFUSED`);
  expect(out).toContain('redis-server');
  expect(out).not.toMatch(/\n\s+at /);
  expect(out).not.toContain('applying migrations');
});

test('a service started without PostgreSQL says the same and exits 1', async () => {
  const port = await freePort();
  const { code, out } = await run('services/catalogue/dist/server.js', { DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/gdx`, REDIS_URL, MIGRATE_ON_START: 'true', LOG_LEVEL: 'silent' });
  expect(code).toBe(1);
  expect(out).toContain(`cannot reach PostgreSQL at 127.0.0.1:${port}`);
  expect(out).not.toMatch(/\n\s+at /);
});
