import request from 'supertest';
import { Redis } from 'ioredis';
import { RevocationFeed, TokenRevocations } from '@gdx/auth';
import type { App } from '@gdx/service-kit';
import { REDIS_URL } from '../helpers/redis';
import { addUser, type TestUser } from '../helpers/gateway';
import { startPlatform, type TestPlatform } from '../helpers/platform';

/**
 * Issue 11 item 12: a disabled account's token, a revoked client's token and one issued before a
 * password change stop working on every service (the gateway and a service behind it, each
 * checking the token itself) within a second, while a token issued afterwards works.
 */
let platform: TestPlatform;
let downstream: App;
let admin: TestUser;

const gw = () => request(platform.gatewayUrl);
const svc = () => request(downstream.server);
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** The calls a token is tried on: a gateway route and a downstream service's own route (its own verification). */
async function statuses(token: string): Promise<{ gateway: number; service: number; codes: string[] }> {
  const a = await gw().get('/api/v1/units').set(bearer(token));
  const b = await svc().get('/api/v1/requests').set(bearer(token));
  return { gateway: a.status, service: b.status, codes: [a.body.code, b.body.code] };
}

/** Polls until both answer 401 TOKEN_REVOKED or the one-second deadline passes, then reports the last answer. */
async function revokedWithinASecond(token: string): Promise<{ gateway: number; service: number; codes: string[] }> {
  const deadline = Date.now() + 1_000;
  let last = await statuses(token);
  while (Date.now() < deadline && !(last.gateway === 401 && last.service === 401)) {
    await new Promise((r) => setTimeout(r, 20));
    last = await statuses(token);
  }
  return last;
}

const WORKS = { gateway: 200, service: 200, codes: [undefined, undefined] };
const REVOKED = { gateway: 401, service: 401, codes: ['TOKEN_REVOKED', 'TOKEN_REVOKED'] };

beforeAll(async () => {
  platform = await startPlatform(['request-approval']);
  downstream = platform.services['request-approval']!;
  admin = await addUser(platform.gateway, 'GA', ['unit_admin']);
});
afterAll(async () => {
  await platform?.close();
});

test('a disabled account’s token stops working on the gateway and downstream; re-enabled, a fresh sign-in works', async () => {
  const user = await addUser(platform.gateway, 'GA', ['unit_operator']);
  expect(await statuses(user.token)).toEqual(WORKS);
  await gw().patch(`/api/v1/accounts/${user.id}`).set(bearer(admin.token)).send({ status: 'disabled' }).expect(200);
  expect(await revokedWithinASecond(user.token)).toEqual(REVOKED);
  // Others of the unit are untouched.
  expect(await statuses(admin.token)).toEqual(WORKS);
  await gw().patch(`/api/v1/accounts/${user.id}`).set(bearer(admin.token)).send({ status: 'active' }).expect(200);
  const fresh = await gw().post('/api/v1/auth/login').send({ username: user.username, password: user.password }).expect(200);
  expect(await statuses(fresh.body.access_token as string)).toEqual(WORKS);
  // The old token stays refused after the re-enabling.
  expect(await statuses(user.token)).toEqual(REVOKED);
});

test('a token issued before a password change stops working everywhere; one issued right after works', async () => {
  const user = await addUser(platform.gateway, 'GA', ['unit_operator']);
  expect(await statuses(user.token)).toEqual(WORKS);
  await gw().put(`/api/v1/accounts/${user.id}/password`).set(bearer(user.token)).send({ currentPassword: user.password, password: 'a brand new passphrase' }).expect(204);
  const fresh = await gw().post('/api/v1/auth/login').send({ username: user.username, password: 'a brand new passphrase' }).expect(200);
  expect(await revokedWithinASecond(user.token)).toEqual(REVOKED);
  expect(await statuses(fresh.body.access_token as string)).toEqual(WORKS);
});

test('a revoked client’s token stops working everywhere; another client of the unit keeps working', async () => {
  const tokenOf = async () => {
    const c = await gw().post('/api/v1/clients').set(bearer(admin.token)).send({ unitId: admin.unitId, name: '业务系统' }).expect(201);
    const t = await gw().post('/api/v1/auth/token').type('form').send({ grant_type: 'client_credentials', client_id: c.body.clientId, client_secret: c.body.clientSecret }).expect(200);
    return { id: c.body.id as string, token: t.body.access_token as string };
  };
  const revoked = await tokenOf();
  const kept = await tokenOf();
  expect(await statuses(revoked.token)).toEqual(WORKS);
  await gw().post(`/api/v1/clients/${revoked.id}/revoke`).set(bearer(admin.token)).expect(200);
  expect(await revokedWithinASecond(revoked.token)).toEqual(REVOKED);
  expect(await statuses(kept.token)).toEqual(WORKS);
});

test('a unit admin of another unit cannot disable the account or reset its password (404), and its attempt revokes nothing', async () => {
  const user = await addUser(platform.gateway, 'GA', ['unit_operator']);
  const other = await addUser(platform.gateway, 'RS', ['unit_admin']);
  await gw().patch(`/api/v1/accounts/${user.id}`).set(bearer(other.token)).send({ status: 'disabled' }).expect(404);
  await gw().put(`/api/v1/accounts/${user.id}/password`).set(bearer(other.token)).send({ password: 'taken over by RS' }).expect(404);
  expect(await statuses(user.token)).toEqual(WORKS);
});

test('a service that starts later learns earlier revocations from the streams before it is ready', async () => {
  const user = await addUser(platform.gateway, 'GA', ['unit_operator']);
  await gw().patch(`/api/v1/accounts/${user.id}`).set(bearer(admin.token)).send({ status: 'disabled' }).expect(200);
  expect(await revokedWithinASecond(user.token)).toEqual(REVOKED);
  const view = new TokenRevocations();
  const feed = new RevocationFeed(view, { redis: new Redis(REDIS_URL), prefix: platform.prefix, blockMs: 50 });
  expect(view.ready).toBe(false);
  feed.start();
  try {
    expect(await feed.caughtUp(5_000)).toBe(true);
    expect(view.isRevoked(user.id, Date.now() - 60_000)).toBe(true);
    expect(view.isRevoked(user.id, Date.now() + 1)).toBe(false);
    expect(view.isRevoked(admin.id, 0)).toBe(false);
  } finally {
    await feed.stop();
  }
});
