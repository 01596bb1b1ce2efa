import request from 'supertest';
import { Client } from 'pg';
import { startPlatform, type TestPlatform } from '../helpers/platform';

/**
 * Issue 16 item 5: a replica whose database has not had this build's migrations
 * (MIGRATE_ON_START=false, the migrate job not run yet) is not ready, and says which
 * migrations are missing; once they are applied it is.
 */
let platform: TestPlatform;

beforeAll(async () => {
  platform = await startPlatform(['catalogue']);
});
afterAll(async () => {
  await platform?.close();
});

test('pending migrations keep a service out of rotation, named on /health/ready; applied, it is ready', async () => {
  const catalogue = () => request(`http://127.0.0.1:${(platform.services.catalogue!.server.address() as { port: number }).port}`);
  const db = new Client({ connectionString: platform.db.url });
  await db.connect();
  try {
    // As if the database were one release behind: the newest migration not applied yet.
    const { rows } = await db.query<{ id: number; timestamp: string; name: string }>('SELECT id, timestamp, name FROM catalogue.migrations ORDER BY id DESC LIMIT 1');
    const newest = rows[0];
    await db.query('DELETE FROM catalogue.migrations WHERE id = $1', [newest.id]);
    const behind = await catalogue().get('/health/ready').expect(503);
    expect(behind.body).toMatchObject({ status: 'unavailable', checks: { migrations: `failed: 1 pending (${newest.name}); run the migrate job`, postgres: 'ok' } });

    await db.query('INSERT INTO catalogue.migrations (id, timestamp, name) VALUES ($1, $2, $3)', [newest.id, newest.timestamp, newest.name]);
    const ready = await catalogue().get('/health/ready').expect(200);
    expect(ready.body.checks.migrations).toBe('ok');
  } finally {
    await db.end();
  }
});
