import request from 'supertest';
import { createHash, createPrivateKey, createPublicKey, randomUUID, verify } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSigner } from 'fast-jwt';
import { streamKey } from '@gdx/events';
import { createEvent } from '@gdx/contracts';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { personOf, verifyWebhook, type Resolver } from '@gdx/data-query/testing';
import { startPlatform, type TestPlatform } from '../helpers/platform';
import { addUser, type TestUser } from '../helpers/gateway';
import { eventually } from '../helpers/wait';
import { dataQueryUrl, EventWriter, grantOf, starterResource, type Grant, submitRows, districtDataCallGrant } from '../data-query/support';

/**
 * Issue 12, push subscriptions of the data call mode (数据调用), through the gateway: a
 * consumer unit's admin subscribes a webhook; every accepted provider batch reaches it as
 * numbered, ordered deliveries of the changed rows of its slice (masked, filtered, tombstones),
 * signed per Standard Webhooks; a receiver that fails is retried, one down past the retry period
 * is dead-lettered (the subscription paused) and redelivered by hand; SSRF targets are refused;
 * a suspended grant stops deliveries; every delivery is on the record.
 *
 * The receiver listens on 127.0.0.1 under the name `receiver.test`, which the injected resolver
 * maps to 127.0.0.1 and the operator allow-list (by name) permits: 127.0.0.1 itself stays refused,
 * and deliveries prove they connect to the address the check vetted.
 */
const CODE = '101001/0001';
const LOCAL = '340302';
let platform: TestPlatform;
let events: EventWriter;
let provider: TestUser;
let consumer: TestUser;
let third: TestUser;
let grant: Grant;
let receiver: Server;
let port: number;
const people = Array.from({ length: 160 }, (_, i) => personOf(i));
const local = people.filter((p) => p.regionCode === LOCAL);
const elsewhere = people.filter((p) => p.regionCode !== LOCAL);
const masked = (id: string) => `${id.slice(0, 6)}********${id.slice(-4)}`;
const maskedName = (name: string) => `${[...name][0]}${'*'.repeat([...name].length - 1)}`;

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  answered: number;
}
const received: Received[] = [];
/** What the receiver answers on a path (default 204). */
const answers = new Map<string, () => number>();

const resolver: Resolver = async (hostname) => {
  if (hostname === 'receiver.test') return [{ address: '127.0.0.1', family: 4 }];
  if (hostname === 'private.test') return [{ address: '10.20.30.40', family: 4 }];
  throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
};

/** data-query's delivery-manifest keys: the test reads the private key to try it as a token signer. */
const manifestKeysDir = mkdtempSync(join(tmpdir(), 'gdx-manifest-keys-'));

beforeAll(async () => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '/';
      const answered = (answers.get(path) ?? (() => 204))();
      received.push({ path, headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), answered });
      res.writeHead(answered).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  port = (receiver.address() as AddressInfo).port;
  platform = await startPlatform(['data-query'], {
    config: {
      'data-query': {
        manifestKeysDir,
        webhookRequireHttps: false,
        webhookAllow: 'receiver.test',
        // A tiny retry period and back-off, so that a dead letter takes seconds, not a day.
        webhookRetryHours: 3 / 3600,
        webhookRetryBaseMs: 10,
        webhookRetryCapMs: 200,
        webhookPollMs: 20,
        webhookSweepMs: 200,
        webhookMaxRows: 3,
      },
    },
    app: { 'data-query': { webhookResolver: resolver } },
  });
  events = new EventWriter(platform);
  provider = await addUser(platform.gateway, 'GA', ['unit_admin']);
  consumer = await addUser(platform.gateway, 'LZH', ['unit_admin']);
  third = await addUser(platform.gateway, 'HY', ['unit_admin']);
  await events.resource(starterResource(CODE, provider.unitId));
  await submit(people.map((p, i) => ({ idNumber: p.idNumber, name: `张三${i}`, sex: p.sex, birthDate: p.birthDate, regionCode: p.regionCode })));
  grant = districtDataCallGrant(consumer, provider, CODE, LOCAL);
  await events.grant(grant);
  expect(local.length).toBeGreaterThan(17);
  await eventually(async () => (await create(consumer, { url: hook('warm-up') })).status === 201, 15_000, 'the grant at data-query');
});
afterAll(async () => {
  events?.close();
  await platform?.close();
  await new Promise((resolve) => receiver?.close(resolve));
});

const hook = (name: string) => `http://receiver.test:${port}/${name}`;

const submit = (rows: object[]) => submitRows(platform, CODE, provider, rows).expect(200);

const upsert = (p: (typeof people)[number], name: string) => ({ idNumber: p.idNumber, name, sex: p.sex, birthDate: p.birthDate, regionCode: p.regionCode });

const gw = () => request(platform.gatewayUrl);
const auth = (user: TestUser) => ({ authorization: `Bearer ${user.token}` });

function create(user: TestUser, body: Record<string, unknown>) {
  return gw()
    .post('/api/v1/subscriptions')
    .set(auth(user))
    .send({ resourceCode: CODE, ...body });
}

async function subscribe(name: string, user = consumer, extra: Record<string, unknown> = {}): Promise<{ id: string; secret: string }> {
  const res = await create(user, { url: hook(name), ...extra }).expect(201);
  return res.body as { id: string; secret: string };
}

const at = (name: string) => received.filter((r) => r.path === `/${name}`);
const acked = (name: string) => at(name).filter((r) => r.answered >= 200 && r.answered < 300);

async function ackedCount(name: string, n: number, timeoutMs = 20_000): Promise<Received[]> {
  return eventually(async () => (acked(name).length >= n ? acked(name) : undefined), timeoutMs, `${n} acknowledged deliveries on /${name}`);
}

const lines = (body: string) =>
  body
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);

async function log(id: string, user = consumer) {
  const res = await gw().get(`/api/v1/subscriptions/${id}/deliveries`).set(auth(user)).expect(200);
  return res.body.items as {
    id: string;
    sequence: number;
    status: string;
    attempts: number;
    lastStatusCode: number | null;
    rows: number;
    tombstones: number;
    sha256: string;
    cursorFrom: string;
    cursorTo: string;
  }[];
}

test('a unit admin with a data-call grant subscribes; the secret is shown once; others are refused or see nothing', async () => {
  const res = await create(consumer, { url: hook('created'), items: ['idNumber', 'name'] }).expect(201);
  expect(res.body).toMatchObject({ unitId: consumer.unitId, resourceCode: CODE, status: 'active', items: ['idNumber', 'name'], lastSequence: 0, url: hook('created') });
  expect(res.body.secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
  const id = res.body.id as string;
  const got = await gw().get(`/api/v1/subscriptions/${id}`).set(auth(consumer)).expect(200);
  expect(got.body).not.toHaveProperty('secret');
  expect(JSON.stringify(got.body)).not.toContain(res.body.secret.slice(6));
  const list = await gw().get('/api/v1/subscriptions').set(auth(consumer)).expect(200);
  expect(list.body.items.map((s: { id: string }) => s.id)).toContain(id);
  expect(JSON.stringify(list.body)).not.toContain('whsec_');

  // A unit without a grant: refused on create, and another unit's subscription does not exist for it on every route.
  expect((await create(third, { url: hook('third') }).expect(403)).body.code).toBe('NO_GRANT');
  expect((await gw().get('/api/v1/subscriptions').set(auth(third)).expect(200)).body.items).toEqual([]);
  const denied = [
    gw().get(`/api/v1/subscriptions/${id}`),
    gw().delete(`/api/v1/subscriptions/${id}`),
    gw().post(`/api/v1/subscriptions/${id}/pause`),
    gw().post(`/api/v1/subscriptions/${id}/resume`),
    gw().post(`/api/v1/subscriptions/${id}/rotate-secret`),
    gw().get(`/api/v1/subscriptions/${id}/deliveries`),
    gw().post(`/api/v1/subscriptions/${id}/deliveries/1/redeliver`),
  ];
  for (const r of denied) {
    const answer = await r.set(auth(third));
    expect([answer.status, answer.body.code]).toEqual([404, 'SUBSCRIPTION_NOT_FOUND']);
  }
  // An interface-only grant is not a data-call grant; items outside the grant are refused too.
  const interfaceOnly = await addUser(platform.gateway, 'SCJG', ['unit_admin']);
  await events.grant(grantOf({ consumerUnitId: interfaceOnly.unitId, providerUnitId: provider.unitId, resourceCode: CODE, items: ['name'], modes: ['interface'] }));
  expect((await create(interfaceOnly, { url: hook('wrong-mode') }).expect(403)).body.code).toBe('MODE_NOT_GRANTED');
  expect((await create(consumer, { url: hook('x'), items: ['birthDate'] }).expect(403)).body.code).toBe('ITEM_NOT_GRANTED');
  expect((await create(consumer, { url: hook('x'), items: ['nope'] }).expect(400)).body.code).toBe('UNKNOWN_ITEM');
  // Only the unit's admin subscribes.
  const operator = await addUser(platform.gateway, 'LZH', ['unit_operator']);
  expect((await create(operator, { url: hook('x') }).expect(403)).body.code).toBe('ROLE_REQUIRED');
});

test('webhook URLs that reach loopback, link-local, private or metadata addresses are refused, after DNS too', async () => {
  const refused = [
    `http://127.0.0.1:${port}/hook`,
    'http://169.254.169.254/latest/meta-data/',
    'http://10.0.0.7/hook',
    'http://private.test/hook',
    `http://localhost:${port}/hook`,
    'http://unknown.test/hook',
    'ftp://receiver.test/hook',
    `http://user:pw@receiver.test:${port}/hook`,
  ];
  for (const url of refused) {
    const res = await create(consumer, { url });
    expect([url, res.status, res.body.code]).toEqual([url, 422, 'WEBHOOK_URL_REFUSED']);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  }
  const dns = await create(consumer, { url: 'http://private.test/hook' });
  expect(dns.body.reason).toContain('10.20.30.40');
});

test('two batches arrive as two signed deliveries in order, with exactly the slice’s changes (masked, filtered, tombstones), each on the record', async () => {
  const sub = await subscribe('ordered');
  // Distinct rows in each batch: a row changed again before its delivery is made goes out once, as it is then.
  const [a, b, c, d] = local;
  await submit([upsert(a, '李一'), upsert(b, '李二'), upsert(elsewhere[0], '外区')]);
  await submit([upsert(d, '李三'), { op: 'delete', idNumber: c.idNumber }]);
  const got = await ackedCount('ordered', 2);
  expect(got.length).toBe(2);
  for (const r of got) {
    expect(verifyWebhook(sub.secret, r.headers as Record<string, string>, r.body)).toBe(true);
    expect(r.headers['content-type']).toBe('application/x-ndjson');
  }
  expect(got.map((r) => r.headers['gdx-delivery-sequence'])).toEqual(['1', '2']);
  const byId = (x: Record<string, unknown>, y: Record<string, unknown>) => String(x.idNumber).localeCompare(String(y.idNumber));
  expect(lines(got[0].body).sort(byId)).toEqual(
    [
      { idNumber: masked(a.idNumber), name: maskedName('李一'), regionCode: LOCAL },
      { idNumber: masked(b.idNumber), name: maskedName('李二'), regionCode: LOCAL },
    ].sort(byId),
  );
  expect(lines(got[1].body).sort(byId)).toEqual(
    [
      { idNumber: masked(d.idNumber), name: maskedName('李三'), regionCode: LOCAL },
      { _deleted: true, idNumber: masked(c.idNumber) },
    ].sort(byId),
  );
  // Never the clear values, nor the row of another district.
  expect(got.map((r) => r.body).join('')).not.toContain(a.idNumber);
  expect(got.map((r) => r.body).join('')).not.toContain('外区');

  // The receiver's 2xx reaches the log once the worker has written it down, a moment after the receiver saw the delivery.
  const entries = await eventually(async () => {
    const l = await log(sub.id);
    return l.every((e) => e.status === 'delivered') ? l : undefined;
  });
  expect(entries.map((e) => [e.sequence, e.status, e.lastStatusCode, e.rows, e.tombstones])).toEqual([
    [2, 'delivered', 204, 1, 1],
    [1, 'delivered', 204, 2, 0],
  ]);
  // The cursor ranges join up: delivery 2 starts where 1 ended.
  expect(entries[0].cursorFrom).toBe(entries[1].cursorTo);
  const records = await eventually(async () => {
    const found = await events.eventsOf('data', (e) => e.type === 'data.delivered' && e.data.subscriptionId === sub.id);
    return found.length === 2 ? found : undefined;
  });
  for (const r of got) {
    const record = records.find((e) => e.data.deliveryId === r.headers['webhook-id']);
    expect(record?.data).toMatchObject({
      kind: 'push',
      mode: 'data-call',
      outcome: 'complete',
      unitId: consumer.unitId,
      providerUnitId: provider.unitId,
      grantId: grant.id,
      sha256: createHash('sha256').update(r.body).digest('hex'),
      sourceAddress: '127.0.0.1',
    });
  }
  expect(JSON.stringify(records)).not.toContain(a.idNumber.slice(6, 14));
});

test('every push delivery carries a manifest signed with a platform key from the gateway’s JWKS; that key never passes as a token', async () => {
  await subscribe('manifested');
  // A row no other test changes.
  await submit([upsert(local[local.length - 1], '冯一')]);
  const [delivery] = await ackedCount('manifested', 1);
  const jws = String(delivery.headers['gdx-manifest']);
  const [h, p, sig] = jws.split('.');
  const header = JSON.parse(Buffer.from(h, 'base64url').toString()) as { kid: string; typ: string };
  expect(header.typ).toBe('gdx-manifest+jwt');
  const jwks = (await gw().get('/.well-known/jwks.json').expect(200)).body as { keys: (import('node:crypto').JsonWebKey & { kid: string; gdx_use?: string })[] };
  const jwk = jwks.keys.find((k) => k.kid === header.kid)!;
  expect(jwk.gdx_use).toBe('manifest');
  expect(verify(null, Buffer.from(`${h}.${p}`), createPublicKey({ key: jwk, format: 'jwk' }), Buffer.from(sig, 'base64url'))).toBe(true);
  const manifest = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
  expect(manifest).toMatchObject({
    deliveryId: delivery.headers['webhook-id'],
    recipientUnitId: consumer.unitId,
    grantId: grant.id,
    resourceCode: CODE,
    records: 1,
    bytes: Buffer.byteLength(delivery.body),
    sha256: createHash('sha256').update(delivery.body).digest('hex'),
    complete: true,
  });

  // The manifest key signs an access token as the gateway would: refused by the gateway and by data-query alike.
  const file = readdirSync(manifestKeysDir).find((f) => f.endsWith('.pem'))!;
  const forge = createSigner({
    key: createPrivateKey(readFileSync(join(manifestKeysDir, file)))
      .export({ type: 'pkcs8', format: 'pem' })
      .toString(),
    algorithm: 'EdDSA',
    kid: file.slice(0, -4),
  });
  const now = Math.floor(Date.now() / 1000);
  const forged = forge({ iss: 'gdx', aud: 'gdx-api', sub: consumer.id, iat: now, iat_ms: Date.now(), exp: now + 600, jti: randomUUID(), typ: 'account', unit: consumer.unitId, roles: ['unit_admin'] });
  await gw().get('/api/v1/subscriptions').set('authorization', `Bearer ${forged}`).expect(401);
  await request(dataQueryUrl(platform)).get('/api/v1/subscriptions').set('authorization', `Bearer ${forged}`).expect(401);
});

test('more changed rows than fit one delivery are split into numbered deliveries of at most webhookMaxRows', async () => {
  const sub = await subscribe('split');
  await submit(local.slice(3, 10).map((p, i) => upsert(p, `王${i}`)));
  const got = await ackedCount('split', 3);
  expect(got.map((r) => r.headers['gdx-delivery-sequence'])).toEqual(['1', '2', '3']);
  expect(got.map((r) => lines(r.body).length)).toEqual([3, 3, 1]);
  expect(new Set(got.flatMap((r) => lines(r.body).map((l) => l.idNumber))).size).toBe(7);
  // Written down by the worker a moment after the receiver answered.
  await eventually(async () => (await log(sub.id)).every((e) => e.status === 'delivered'), 10_000, 'every delivery logged as delivered');
});

test('a receiver answering 503 for a while gets the deliveries retried, then in order', async () => {
  let failures = 3;
  answers.set('/flaky', () => (failures-- > 0 ? 503 : 200));
  const sub = await subscribe('flaky');
  await submit([upsert(local[10], '赵一')]);
  await submit([upsert(local[11], '赵二')]);
  const got = await ackedCount('flaky', 2);
  expect(got.map((r) => r.headers['gdx-delivery-sequence'])).toEqual(['1', '2']);
  // Every attempt of delivery 1 came before any of delivery 2, with the same id and bytes.
  const all = at('flaky');
  const firstOf2 = all.findIndex((r) => r.headers['gdx-delivery-sequence'] === '2');
  expect(all.slice(0, firstOf2).every((r) => r.headers['gdx-delivery-sequence'] === '1')).toBe(true);
  expect(all.slice(0, firstOf2).length).toBe(4);
  expect(new Set(all.slice(0, firstOf2).map((r) => `${String(r.headers['webhook-id'])}|${r.body}`)).size).toBe(1);
  const first = await eventually(async () => (await log(sub.id)).find((e) => e.sequence === 1 && e.status === 'delivered'), 10_000, 'delivery 1 logged as delivered');
  expect(first).toMatchObject({ status: 'delivered', attempts: 4, lastStatusCode: 200 });
});

test('a receiver down past the retry period: dead-lettered, the subscription paused, later changes wait; redelivery sends it and catches up', async () => {
  let down = true;
  answers.set('/down', () => (down ? 503 : 204));
  const sub = await subscribe('down');
  await submit([upsert(local[12], '钱一')]);
  const dead = await eventually(async () => (await log(sub.id)).find((e) => e.sequence === 1 && e.status === 'dead'), 30_000, 'a dead letter');
  expect(dead.attempts).toBeGreaterThan(1);
  expect(dead.lastStatusCode).toBe(503);
  const paused = await gw().get(`/api/v1/subscriptions/${sub.id}`).set(auth(consumer)).expect(200);
  expect(paused.body).toMatchObject({ status: 'paused', pauseKind: 'dead-letter' });
  expect(paused.body.pausedReason).toContain('delivery 1');
  const record = await eventually(async () => {
    const found = await events.eventsOf('data', (e) => e.type === 'data.delivered' && e.data.deliveryId === dead.id);
    return found[0];
  });
  expect(record.data).toMatchObject({ kind: 'push', outcome: 'DEAD_LETTERED', attempts: dead.attempts });

  // A change while paused is not lost: it is delivered after the dead one once that is redelivered.
  await submit([upsert(local[12], '钱二')]);
  down = false;
  const again = await gw().post(`/api/v1/subscriptions/${sub.id}/deliveries/1/redeliver`).set(auth(consumer)).expect(200);
  expect(again.body).toMatchObject({ sequence: 1, status: 'pending' });
  const got = await ackedCount('down', 2);
  expect(got.map((r) => [r.headers['gdx-delivery-sequence'], lines(r.body)[0].name])).toEqual([
    ['1', maskedName('钱一')],
    ['2', maskedName('钱二')],
  ]);
  expect(got[0].headers['webhook-id']).toBe(dead.id);
  expect((await gw().get(`/api/v1/subscriptions/${sub.id}`).set(auth(consumer)).expect(200)).body.status).toBe('active');
  expect((await gw().post(`/api/v1/subscriptions/${sub.id}/deliveries/1/redeliver`).set(auth(consumer)).expect(409)).body.code).toBe('DELIVERY_ALREADY_DELIVERED');
  expect((await gw().post(`/api/v1/subscriptions/${sub.id}/deliveries/99/redeliver`).set(auth(consumer)).expect(404)).body.code).toBe('DELIVERY_NOT_FOUND');
});

test('a paused subscription gets nothing; resumed, it gets what changed meanwhile', async () => {
  const sub = await subscribe('pausable');
  const control = await subscribe('control-pause');
  const paused = await gw().post(`/api/v1/subscriptions/${sub.id}/pause`).set(auth(consumer)).send({ reason: '系统维护' }).expect(200);
  expect(paused.body).toMatchObject({ status: 'paused', pauseKind: 'manual', pausedReason: '系统维护' });
  await submit([upsert(local[13], '孙一')]);
  // The control subscription got the batch: its fan-out, the paused one's included, is done.
  await ackedCount('control-pause', 1);
  expect(await log(control.id)).toHaveLength(1);
  expect(await log(sub.id)).toEqual([]);
  expect(at('pausable')).toEqual([]);
  const resumed = await gw().post(`/api/v1/subscriptions/${sub.id}/resume`).set(auth(consumer)).expect(200);
  expect(resumed.body).toMatchObject({ status: 'active', pauseKind: null });
  const got = await ackedCount('pausable', 1);
  expect(lines(got[0].body)).toEqual([{ idNumber: masked(local[13].idNumber), name: maskedName('孙一'), regionCode: LOCAL }]);
});

test('after a secret rotation deliveries verify with the new secret (and, for the grace period, the old one)', async () => {
  const sub = await subscribe('rotating');
  const rotated = await gw().post(`/api/v1/subscriptions/${sub.id}/rotate-secret`).set(auth(consumer)).expect(200);
  expect(rotated.body.secret).toMatch(/^whsec_/);
  expect(rotated.body.secret).not.toBe(sub.secret);
  expect(rotated.body.previousSecretValidUntil).toEqual(expect.any(String));
  expect((await gw().get(`/api/v1/subscriptions/${sub.id}`).set(auth(consumer)).expect(200)).body).not.toHaveProperty('secret');
  await submit([upsert(local[14], '周一')]);
  const [r] = await ackedCount('rotating', 1);
  expect(verifyWebhook(rotated.body.secret, r.headers as Record<string, string>, r.body)).toBe(true);
  expect(verifyWebhook(sub.secret, r.headers as Record<string, string>, r.body)).toBe(true);
  expect(String(r.headers['webhook-signature']).split(' ')).toHaveLength(2);
});

test('a suspended grant stops deliveries (the subscription paused with the reason); active again, they resume', async () => {
  const unit = await addUser(platform.gateway, 'RS', ['unit_admin']);
  const g = grantOf({ consumerUnitId: unit.unitId, providerUnitId: provider.unitId, resourceCode: CODE, items: ['name'], modes: ['data-call'], dailyQuota: 1_000_000 });
  await events.grant(g);
  const sub = await eventually(async () => {
    const res = await create(unit, { url: hook('suspended') });
    return res.status === 201 ? (res.body as { id: string; secret: string }) : undefined;
  });
  const control = await subscribe('control-suspend');
  await events.grant({ ...g, status: 'suspended', statusReason: '核查', version: g.version + 1 }, 'grant.suspended');
  await submit([upsert(local[15], '吴一')]);
  await ackedCount('control-suspend', 1);
  const paused = await eventually(async () => {
    const res = await gw().get(`/api/v1/subscriptions/${sub.id}`).set(auth(unit)).expect(200);
    return res.body.status === 'paused' ? res.body : undefined;
  });
  expect(paused).toMatchObject({ pauseKind: 'grant' });
  expect(paused.pausedReason).toContain('GRANT_NOT_ACTIVE');
  expect(await log(sub.id, unit)).toEqual([]);
  expect(at('suspended')).toEqual([]);
  expect(await log(control.id)).toHaveLength(1);
  // Resuming by hand is refused while the grant is suspended.
  expect((await gw().post(`/api/v1/subscriptions/${sub.id}/resume`).set(auth(unit)).expect(403)).body.code).toBe('GRANT_NOT_ACTIVE');
  // The grant active again: the subscription resumes by itself and the change arrives (no row filter: every row).
  await events.grant({ ...g, status: 'active', statusReason: null, version: g.version + 2 }, 'grant.resumed');
  const [r] = await ackedCount('suspended', 1);
  expect(verifyWebhook(sub.secret, r.headers as Record<string, string>, r.body)).toBe(true);
  expect(lines(r.body)).toEqual([{ name: maskedName('吴一') }]);
});

test('deleting a subscription stops its deliveries; the office sees every unit’s subscriptions', async () => {
  const sub = await subscribe('deleted');
  const office = await addUser(platform.gateway, 'OFFICE', ['office_auditor']);
  const all = await gw().get('/api/v1/subscriptions').query({ limit: 200 }).set(auth(office)).expect(200);
  expect(all.body.items.map((s: { id: string }) => s.id)).toContain(sub.id);
  expect((await gw().get(`/api/v1/subscriptions/${sub.id}`).set(auth(office)).expect(200)).body.unitId).toBe(consumer.unitId);
  // Paging: a page of one, then the next from its cursor, never the same one twice.
  const first = await gw().get('/api/v1/subscriptions').query({ limit: 1 }).set(auth(consumer)).expect(200);
  const second = await gw().get('/api/v1/subscriptions').query({ limit: 1, cursor: first.body.nextCursor }).set(auth(consumer)).expect(200);
  expect(second.body.items[0].id).not.toBe(first.body.items[0].id);
  expect((await gw().get('/api/v1/subscriptions').query({ cursor: 'nope' }).set(auth(consumer)).expect(400)).body.code).toBe('INVALID_CURSOR');
  await gw().delete(`/api/v1/subscriptions/${sub.id}`).set(auth(consumer)).expect(204);
  expect((await gw().get(`/api/v1/subscriptions/${sub.id}`).set(auth(consumer)).expect(404)).body.code).toBe('SUBSCRIPTION_NOT_FOUND');
  const control = await subscribe('control-delete');
  await submit([upsert(local[16], '郑一')]);
  await ackedCount('control-delete', 1);
  expect(await log(control.id)).toHaveLength(1);
  expect(at('deleted')).toEqual([]);
});

test('a maintenance notice naming the resource (or the data-call mode) reaches subscribers as a signed delivery in their order, once per version', async () => {
  const sub = await subscribe('notices');
  await submit([upsert(local[0], '冯一')]);
  await ackedCount('notices', 1);
  const now = Date.now();
  const notice = {
    id: randomUUID(),
    number: 'WH-2026-0099',
    issuerUnitId: provider.unitId,
    startsAt: new Date(now + 86_400_000).toISOString(),
    endsAt: new Date(now + 90_000_000).toISOString(),
    services: [],
    resourceCodes: [CODE],
    description: '数据库升级',
    emergency: false,
    emergencyReason: null,
    status: 'announced' as const,
    cancelReason: null,
    version: 1,
    createdAt: new Date(now).toISOString(),
    updatedAt: new Date(now).toISOString(),
  };
  const write = async (type: 'notice.published' | 'notice.cancelled', data: typeof notice) => {
    await events.redis.xadd(streamKey(platform.prefix, 'notice'), '*', 'event', JSON.stringify(createEvent(type, { actor: { kind: 'system' }, subject: data.id, data })));
  };
  await write('notice.published', notice);
  // The same version again (a redelivery) makes nothing more.
  await write('notice.published', notice);
  const [, r] = await ackedCount('notices', 2);
  expect(r.headers['gdx-delivery-kind']).toBe('notice');
  expect(verifyWebhook(sub.secret, r.headers as Record<string, string>, r.body)).toBe(true);
  expect(lines(r.body)).toEqual([{ _notice: notice }]);
  await write('notice.cancelled', { ...notice, status: 'cancelled', cancelReason: '改期', version: 2 } as unknown as typeof notice);
  const all = await ackedCount('notices', 3);
  expect(lines(all[2].body)).toEqual([{ _notice: expect.objectContaining({ id: notice.id, status: 'cancelled', version: 2 }) }]);
  const entries = await log(sub.id);
  expect(entries.map((e) => [e.sequence, e.rows])).toEqual([
    [3, 0],
    [2, 0],
    [1, 1],
  ]);
  // Rows after the notices keep the subscription's order and cursor.
  await submit([upsert(local[1], '陈一')]);
  const after = await ackedCount('notices', 4);
  expect(after[3].headers['gdx-delivery-kind']).toBe('rows');
  expect(Number(after[3].headers['gdx-delivery-sequence'])).toBe(4);
  expect(after[3].headers['gdx-cursor-from']).toBe(all[2].headers['gdx-cursor-to']);
  expect(at('notices')).toHaveLength(4);
});
