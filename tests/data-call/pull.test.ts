import request from 'supertest';
import { createHash, createPublicKey, randomUUID, verify } from 'node:crypto';
import { get as httpGet, type IncomingMessage } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { personOf } from '@gdx/data-query/testing';
import { startPlatform, type TestPlatform } from '../helpers/platform';
import { addUser, type TestUser } from '../helpers/gateway';
import { eventually } from '../helpers/wait';
import { dataQueryUrl, enc, EventWriter, grantOf, starterResource, type Grant, submitRows, districtDataCallGrant } from '../data-query/support';

/**
 * Issue 12, data call (数据调用) bulk pulls through the gateway: exactly the granted,
 * filtered, masked slice in NDJSON, CSV and JSON, full and incremental with tombstones,
 * resumable without gap or duplicate, refused with the right code, stopped mid-stream when
 * the grant is suspended, counted against the daily row quota, and on the record with the
 * SHA-256 of what was sent.
 */
const CODE = '101001/0001';
const LOCAL = '340302';
let platform: TestPlatform;
let events: EventWriter;
let provider: TestUser;
let consumer: TestUser;
let third: TestUser;
let grant: Grant;
const people = Array.from({ length: 60 }, (_, i) => personOf(i));
const masked = (id: string) => `${id.slice(0, 6)}********${id.slice(-4)}`;
/** Names are personal, declared to keep their first character. */
const maskedName = (name: string) => `${[...name][0]}${'*'.repeat([...name].length - 1)}`;
const inSlice = people.filter((p) => p.regionCode === LOCAL);
const nameOf = (i: number) => (i === 0 ? '王,"五"' : `张三${i}`);

beforeAll(async () => {
  // Small chunks, so that a pull of a few dozen rows has several checkpoints.
  platform = await startPlatform(['request-approval', 'data-query'], { config: { 'data-query': { pullChunkRows: 4 } } });
  events = new EventWriter(platform);
  provider = await addUser(platform.gateway, 'GA', ['unit_admin']);
  consumer = await addUser(platform.gateway, 'LZH', ['unit_admin']);
  third = await addUser(platform.gateway, 'HY', ['unit_admin']);
  await events.resource(starterResource(CODE, provider.unitId));
  await submit(people.map((p, i) => ({ idNumber: p.idNumber, name: nameOf(i), sex: p.sex, birthDate: p.birthDate, regionCode: p.regionCode })));
  grant = districtDataCallGrant(consumer, provider, CODE, LOCAL);
  await events.grant(grant);
  await eventually(async () => (await pull(consumer)).status === 200, 15_000, 'the grant at the gateway');
  expect(inSlice.length).toBeGreaterThan(8);
});
afterAll(async () => {
  events?.close();
  await platform?.close();
});

const submit = (rows: object[]) => submitRows(platform, CODE, provider, rows).expect(200);

function pull(user: TestUser, query: Record<string, string> = {}, accept?: string, code = CODE) {
  const r = request(platform.gatewayUrl)
    .get(`/api/v1/data/${enc(code)}/records`)
    .query(query)
    .set('authorization', `Bearer ${user.token}`);
  return accept ? r.set('accept', accept) : r;
}

interface Ndjson {
  rows: Record<string, unknown>[];
  cursors: string[];
  end: { cursor: string; rows: number; tombstones: number; bytes: number; sha256: string; deliveryId: string; complete: boolean; error?: { code: string } };
  dataSha256: string;
}

function parseNdjson(text: string): Ndjson {
  const lines = text.split('\n').filter(Boolean);
  const objects = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  const data = lines.filter((_, i) => !('_cursor' in objects[i]) && !('_end' in objects[i]));
  return {
    rows: objects.filter((o) => !('_cursor' in o) && !('_end' in o)),
    cursors: objects.filter((o) => '_cursor' in o).map((o) => o._cursor as string),
    end: objects.find((o) => '_end' in o)?._end as Ndjson['end'],
    dataSha256: createHash('sha256')
      .update(data.map((l) => `${l}\n`).join(''))
      .digest('hex'),
  };
}

const expected = () => inSlice.map((p) => ({ idNumber: masked(p.idNumber), name: maskedName(nameOf(people.indexOf(p))), regionCode: LOCAL }));
const byId = (a: Record<string, unknown>, b: Record<string, unknown>) => String(a.idNumber).localeCompare(String(b.idNumber)) || String(a.name).localeCompare(String(b.name));

async function delivered(requestId: string) {
  return eventually(async () => {
    const found = await events.eventsOf('data', (e) => e.type === 'data.delivered' && e.data.requestId === requestId);
    return found.length ? found : undefined;
  });
}

test('a full NDJSON pull is exactly the granted, filtered, masked slice, with a manifest whose hash is on the record', async () => {
  const requestId = `pull-${randomUUID()}`;
  const res = await pull(consumer).set('x-request-id', requestId).expect(200);
  expect(res.headers['content-type']).toMatch(/^application\/x-ndjson/);
  const body = parseNdjson(res.text);
  expect(body.rows.sort(byId)).toEqual(expected().sort(byId));
  // A checkpoint after every chunk of 4 rows, and the trailer's cursor is the one announced in the header.
  expect(body.cursors.length).toBe(Math.ceil(inSlice.length / 4));
  expect(body.end).toMatchObject({ complete: true, rows: inSlice.length, tombstones: 0, cursor: res.headers['gdx-next-cursor'], deliveryId: res.headers['gdx-delivery-id'] });
  expect(body.end.sha256).toBe(body.dataSha256);
  expect(res.headers['ratelimit-limit']).toBe('1000000');
  const [record] = await delivered(requestId);
  expect(record).toMatchObject({
    subject: CODE,
    data: {
      unitId: consumer.unitId,
      providerUnitId: provider.unitId,
      grantId: grant.id,
      mode: 'data-call',
      kind: 'pull',
      rowCount: inSlice.length,
      sha256: body.dataSha256,
      outcome: 'complete',
      cursorFrom: null,
    },
  });
  // Never the body: no value of a row is in the record.
  expect(JSON.stringify(record)).not.toContain(inSlice[0].idNumber.slice(6, 14));
});

/** A signed manifest checked as a recipient would: its key from the gateway's public JWKS, Ed25519 over header.payload. */
async function verifiedManifest(jws: string): Promise<Record<string, unknown>> {
  const [h, p, sig] = jws.split('.');
  const header = JSON.parse(Buffer.from(h, 'base64url').toString()) as { kid: string; typ: string; alg: string };
  expect(header).toMatchObject({ alg: 'EdDSA', typ: 'gdx-manifest+jwt' });
  const jwks = (await request(platform.gatewayUrl).get('/.well-known/jwks.json').expect(200)).body as { keys: (import('node:crypto').JsonWebKey & { kid: string })[] };
  const key = createPublicKey({ key: jwks.keys.find((k) => k.kid === header.kid)!, format: 'jwk' });
  expect(verify(null, Buffer.from(`${h}.${p}`), key, Buffer.from(sig, 'base64url'))).toBe(true);
  // Altered by one character, it no longer verifies.
  const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p, 'base64url').toString()), records: 1 })).toString('base64url');
  expect(verify(null, Buffer.from(`${h}.${forged}`), key, Buffer.from(sig, 'base64url'))).toBe(false);
  return JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
}

test('every pull carries a manifest signed by the gateway, verifiable with the public JWKS: in the NDJSON trailer line and the gdx-manifest HTTP trailer', async () => {
  const res = await rawGet(`/api/v1/data/${enc(CODE)}/records`, { authorization: `Bearer ${consumer.token}` });
  const body = parseNdjson(res.body.toString('utf8'));
  const manifest = await verifiedManifest((body.end as unknown as { manifest: string }).manifest);
  expect(manifest).toMatchObject({
    deliveryId: body.end.deliveryId,
    recipientUnitId: consumer.unitId,
    grantId: grant.id,
    resourceCode: CODE,
    format: 'ndjson',
    cursorFrom: null,
    cursorTo: body.end.cursor,
    records: body.rows.length,
    sha256: body.dataSha256,
    complete: true,
  });
  expect(res.trailers['gdx-manifest']).toBe((body.end as unknown as { manifest: string }).manifest);
  // CSV and JSON have only the HTTP trailer; the hash is of the whole body as received (uncompressed).
  for (const [format, accept] of [
    ['csv', 'text/csv'],
    ['json', 'application/json'],
  ]) {
    const r = await rawGet(`/api/v1/data/${enc(CODE)}/records`, { authorization: `Bearer ${consumer.token}`, accept, 'accept-encoding': 'gzip' });
    const plain = gunzipSync(r.body);
    const m = await verifiedManifest(r.trailers['gdx-manifest']!);
    expect(m).toMatchObject({ format, records: body.rows.length, bytes: plain.length, sha256: createHash('sha256').update(plain).digest('hex'), recipientUnitId: consumer.unitId, complete: true });
  }
});

test('CSV (RFC 4180) and a JSON array carry the same rows; gzip when asked', async () => {
  const csv = await pull(consumer, {}, 'text/csv').expect(200);
  expect(csv.headers['content-type']).toMatch(/^text\/csv/);
  const lines = csv.text.split('\r\n').filter(Boolean);
  expect(lines[0]).toBe('idNumber,name,regionCode');
  expect(lines.length - 1).toBe(inSlice.length);
  expect(lines).toContain(`${masked(inSlice[0].idNumber)},${maskedName(nameOf(people.indexOf(inSlice[0])))},${LOCAL}`);
  const json = await pull(consumer, { format: 'json' }).expect(200);
  expect(json.headers['content-type']).toMatch(/^application\/json/);
  expect((JSON.parse(json.text) as Record<string, unknown>[]).sort(byId)).toEqual(expected().sort(byId));
  // Raw bytes (supertest would unzip them itself): compressed on the wire, the same rows inside.
  const zipped = await rawGet(`/api/v1/data/${enc(CODE)}/records`, { authorization: `Bearer ${consumer.token}`, 'accept-encoding': 'gzip' });
  expect(zipped.status).toBe(200);
  expect(zipped.headers['content-encoding']).toBe('gzip');
  expect(parseNdjson(gunzipSync(zipped.body).toString('utf8')).rows.sort(byId)).toEqual(expected().sort(byId));
  expect((await pull(consumer, {}, 'application/xml')).status).toBe(406);
});

test('an incremental pull has only what changed in the slice since the cursor, with tombstones; an interrupted pull resumes without gap or duplicate', async () => {
  const full = parseNdjson((await pull(consumer).expect(200)).text);
  // Resume from the second checkpoint: the rows after it, and together nothing missing, nothing twice.
  const resumed = parseNdjson((await pull(consumer, { since: full.cursors[1] }).expect(200)).text);
  const before = full.rows.slice(0, 8);
  expect([...before, ...resumed.rows].sort(byId)).toEqual(full.rows.sort(byId));
  expect(resumed.end.cursor).toBe(full.end.cursor);

  const local = inSlice.slice(0, 3);
  const elsewhere = people.find((p) => p.regionCode !== LOCAL)!;
  await submit([
    { idNumber: local[0].idNumber, name: '改名甲', sex: local[0].sex, birthDate: local[0].birthDate, regionCode: LOCAL },
    { idNumber: local[1].idNumber, name: '改名乙', sex: local[1].sex, birthDate: local[1].birthDate, regionCode: LOCAL },
    { idNumber: elsewhere.idNumber, name: '别区', sex: elsewhere.sex, birthDate: elsewhere.birthDate, regionCode: elsewhere.regionCode },
    { op: 'delete', idNumber: local[2].idNumber },
  ]);
  const res = await pull(consumer, { since: full.end.cursor }).expect(200);
  const inc = parseNdjson(res.text);
  expect(inc.rows.sort(byId)).toEqual(
    [
      { idNumber: masked(local[0].idNumber), name: '改**', regionCode: LOCAL },
      { idNumber: masked(local[1].idNumber), name: '改**', regionCode: LOCAL },
      { _deleted: true, idNumber: masked(local[2].idNumber) },
    ].sort(byId),
  );
  expect(inc.end).toMatchObject({ complete: true, rows: 2, tombstones: 1 });
  // CSV says which rows are tombstones in its own column.
  const csv = (await pull(consumer, { since: full.end.cursor }, 'text/csv').expect(200)).text.split('\r\n').filter(Boolean);
  expect(csv[0]).toBe('idNumber,name,regionCode,_deleted');
  expect(csv).toContain(`${masked(local[2].idNumber)},,,true`);
  // Nothing changed since: an empty pull that hands back the same cursor.
  const again = parseNdjson((await pull(consumer, { since: inc.end.cursor }).expect(200)).text);
  expect(again.rows).toEqual([]);
  expect(again.end.cursor).toBe(inc.end.cursor);
  // The full pull now leaves the deleted row out.
  const now = parseNdjson((await pull(consumer).expect(200)).text);
  expect(now.rows.length).toBe(inSlice.length - 1);
});

test('a full pull resumed after rows changed sends each row once as it was, and the incremental pull after it brings the changes; a reorganised table refuses the cursor', async () => {
  const full = parseNdjson((await pull(consumer).expect(200)).text);
  expect(full.cursors.length).toBeGreaterThanOrEqual(2);
  const sent = full.rows.slice(0, 4);
  // While the pull is interrupted after its first chunk, one row already sent and one not yet sent change
  // (rows told apart by their masked identity number: two whose masks collide are not picked).
  const unique = (r: Record<string, unknown>) => full.rows.filter((o) => o.idNumber === r.idNumber).length === 1;
  const personOfRow = (r: Record<string, unknown>) => inSlice.find((p) => r.idNumber === masked(p.idNumber))!;
  const sentChanged = sent.find(unique)!;
  const unsentChanged = [...full.rows.slice(4)].reverse().find(unique)!;
  const [before, after] = [personOfRow(sentChanged), personOfRow(unsentChanged)];
  await submit([before, after].map((p) => ({ idNumber: p.idNumber, name: '后来改名', sex: p.sex, birthDate: p.birthDate, regionCode: LOCAL })));
  const resumed = parseNdjson((await pull(consumer, { since: full.cursors[0] }).expect(200)).text);
  // The rest of the pull as it began: the changed row not yet sent is left for the incremental pull, nothing is sent twice.
  expect(resumed.end.cursor).toBe(full.end.cursor);
  expect([...sent, ...resumed.rows].length).toBe(full.rows.length - 1);
  expect(resumed.rows.map((r) => r.idNumber)).not.toContain(sentChanged.idNumber);
  expect(resumed.rows.map((r) => r.idNumber)).not.toContain(unsentChanged.idNumber);
  const changes = parseNdjson((await pull(consumer, { since: resumed.end.cursor }).expect(200)).text);
  expect(changes.rows.map((r) => r.name)).toEqual(['后***', '后***']);
  expect(changes.rows.map((r) => r.idNumber).sort()).toEqual([sentChanged.idNumber, unsentChanged.idNumber].sort());
  // Together: every row of the slice, the changed ones in their new version.
  const latest = [...sent, ...resumed.rows, ...changes.rows].map((r) => r.idNumber).sort();
  expect(latest).toEqual([...full.rows.map((r) => r.idNumber), sentChanged.idNumber].sort());

  // Rewritten by VACUUM FULL, the table's physical positions mean nothing any more: the scan cursor is refused.
  await platform.gateway.db.query('VACUUM FULL data_query_rows.r_101001_0001');
  const refused = await pull(consumer, { since: full.cursors[0] }).expect(400);
  expect(refused.body.code).toBe('INVALID_CURSOR');
  // A sequence cursor (the end of a pull) still works.
  await pull(consumer, { since: changes.end.cursor }).expect(200);
});

test('forged cursors, unknown and ungranted items are refused with their codes', async () => {
  const bad = await pull(consumer, { since: Buffer.from(JSON.stringify(['999999/9999', '1'])).toString('base64url') }).expect(400);
  expect(bad.body.code).toBe('INVALID_CURSOR');
  expect((await pull(consumer, { since: 'not a cursor' }).expect(400)).body.code).toBe('INVALID_CURSOR');
  expect((await pull(consumer, { since: Buffer.from(JSON.stringify([CODE, '99999'])).toString('base64url') }).expect(400)).body.code).toBe('INVALID_CURSOR');
  expect((await pull(consumer, { items: 'idNumber,nope' }).expect(400)).body.code).toBe('UNKNOWN_ITEM');
  expect((await pull(consumer, { items: 'idNumber,birthDate' }).expect(403)).body.code).toBe('ITEM_NOT_GRANTED');
  const some = parseNdjson((await pull(consumer, { items: 'name' }).expect(200)).text);
  expect(Object.keys(some.rows[0])).toEqual(['name']);
});

test('no grant, the wrong mode, a suspended, revoked or expired grant are refused at the gateway, and every refusal is on the record with its code for both parties', async () => {
  const interfaceOnly = await addUser(platform.gateway, 'SCJG', ['unit_admin']);
  await events.grant(grantOf({ consumerUnitId: interfaceOnly.unitId, providerUnitId: provider.unitId, resourceCode: CODE, items: ['name'], modes: ['interface'] }));
  const expiredUnit = await addUser(platform.gateway, 'RS', ['unit_admin']);
  await events.grant(
    grantOf({
      consumerUnitId: expiredUnit.unitId,
      providerUnitId: provider.unitId,
      resourceCode: CODE,
      items: ['name'],
      modes: ['data-call'],
      validFrom: new Date(Date.now() - 10 * 86_400_000).toISOString(),
      validTo: new Date(Date.now() - 86_400_000).toISOString(),
    }),
  );
  // A grant suspended, and one revoked for good, before the pull.
  const suspendedUnit = await addUser(platform.gateway, 'WJ', ['unit_admin']);
  const suspended = grantOf({ consumerUnitId: suspendedUnit.unitId, providerUnitId: provider.unitId, resourceCode: CODE, items: ['name'], modes: ['data-call'] });
  await events.grant(suspended);
  await events.grant({ ...suspended, status: 'suspended', statusReason: '核查', version: suspended.version + 1 }, 'grant.suspended');
  const revokedUnit = await addUser(platform.gateway, 'TJ', ['unit_admin']);
  const revoked = grantOf({ consumerUnitId: revokedUnit.unitId, providerUnitId: provider.unitId, resourceCode: CODE, items: ['name'], modes: ['data-call'] });
  await events.grant(revoked);
  await events.grant({ ...revoked, status: 'revoked', statusReason: '违规使用', version: revoked.version + 1 }, 'grant.revoked');
  const cases: [TestUser, string][] = [
    [third, 'NO_GRANT'],
    [interfaceOnly, 'MODE_NOT_GRANTED'],
    [expiredUnit, 'GRANT_EXPIRED'],
    [suspendedUnit, 'GRANT_NOT_ACTIVE'],
    [revokedUnit, 'GRANT_NOT_ACTIVE'],
  ];
  for (const [user, code] of cases) {
    const requestId = `refused-${randomUUID()}`;
    const res = await eventually(async () => {
      const r = await pull(user).set('x-request-id', requestId);
      return r.status === 403 && r.body.code === code ? r : undefined;
    });
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    const records = await eventually(async () => {
      const found = await events.eventsOf('call', (e) => e.data.requestId === requestId);
      return found.length ? found : undefined;
    });
    expect(records).toEqual([
      expect.objectContaining({ type: 'call.completed', data: expect.objectContaining({ status: 403, code, unitId: user.unitId, ownerUnitId: provider.unitId, result: 'denied' }) as unknown }),
    ]);
  }
  // data-query decides again on its own (zero trust): straight to it without a grant, the same code.
  const direct = await request(dataQueryUrl(platform))
    .get(`/api/v1/data/${enc(CODE)}/records`)
    .set('authorization', `Bearer ${third.token}`)
    .expect(403);
  expect(direct.body.code).toBe('NO_GRANT');
});

test('the daily row quota ends a pull at the quota with a cursor to continue from, then answers 429 with RateLimit headers', async () => {
  const unit = await addUser(platform.gateway, 'MZ', ['unit_admin']);
  const small = grantOf({ consumerUnitId: unit.unitId, providerUnitId: provider.unitId, resourceCode: CODE, items: ['idNumber', 'name'], modes: ['data-call'], dailyQuota: 6 });
  await events.grant(small);
  const first = await eventually(async () => {
    const r = await pull(unit);
    return r.status === 200 ? r : undefined;
  });
  const body = parseNdjson(first.text);
  expect(body.rows.length).toBe(6);
  expect(body.end).toMatchObject({ complete: false, rows: 6, error: { code: 'QUOTA_EXCEEDED' } });
  const refused = await pull(unit, { since: body.end.cursor }).expect(429);
  expect(refused.body.code).toBe('QUOTA_EXCEEDED');
  expect(refused.headers['ratelimit-limit']).toBe('6');
  expect(refused.headers['ratelimit-remaining']).toBe('0');
  expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
  expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(86_400);
});

function rawGet(path: string, headers: Record<string, string>): Promise<{ status: number; headers: IncomingMessage['headers']; trailers: NodeJS.Dict<string>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    httpGet(`${platform.gatewayUrl}${path}`, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, trailers: res.trailers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    }).on('error', reject);
  });
}

/** A pull read slowly: the first bytes, then a pause while `during` runs, then the rest. */
function slowPull(user: TestUser, code: string, during: () => Promise<void>): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = httpGet(`${platform.gatewayUrl}/api/v1/data/${enc(code)}/records`, { headers: { authorization: `Bearer ${user.token}` } }, (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      let paused = false;
      res.on('data', (c: Buffer) => {
        chunks.push(c);
        if (paused) return;
        paused = true;
        res.pause();
        during().then(
          () => res.resume(),
          (err: unknown) => reject(err as Error),
        );
      });
      res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

test('a grant suspended while a pull streams stops it with a trailer saying why; what was sent is on the record', async () => {
  const BIG = '109001/0001';
  const total = 40_000;
  await events.resource(starterResource(CODE, provider.unitId, { code: BIG }));
  const rows = Array.from({ length: total }, (_, i) => personOf(i + 100)).map((p, i) =>
    JSON.stringify({ idNumber: p.idNumber, name: `赵六${i}`, sex: p.sex, birthDate: p.birthDate, regionCode: p.regionCode }),
  );
  await request(dataQueryUrl(platform))
    .post(`/api/v1/data/${enc(BIG)}/batches`)
    .set('authorization', `Bearer ${provider.token}`)
    .set('content-type', 'application/x-ndjson')
    .send(rows.join('\n'))
    .expect(200);
  const unit = await addUser(platform.gateway, 'ZJ', ['unit_admin']);
  const g = grantOf({ consumerUnitId: unit.unitId, providerUnitId: provider.unitId, resourceCode: BIG, items: ['idNumber', 'name', 'regionCode'], modes: ['data-call'], dailyQuota: 10_000_000 });
  await events.grant(g);
  await eventually(async () => (await pull(unit, { items: 'name' }, undefined, BIG).expect((r) => r.status === 200 || r.status === 403)).status === 200);
  const text = await slowPull(unit, BIG, () => events.grant({ ...g, status: 'suspended', statusReason: '核查', version: g.version + 1 }, 'grant.suspended'));
  const body = parseNdjson(text);
  expect(body.end).toMatchObject({ complete: false, error: { code: 'GRANT_NOT_ACTIVE' } });
  expect(body.rows.length).toBeLessThan(total);
  expect(body.rows.length).toBe(body.end.rows);
  const [record] = await eventually(async () => {
    const found = await events.eventsOf('data', (e) => e.type === 'data.delivered' && e.data.deliveryId === body.end.deliveryId);
    return found.length ? found : undefined;
  });
  expect(record.data).toMatchObject({ outcome: 'GRANT_NOT_ACTIVE', rowCount: body.rows.length, sha256: body.dataSha256 });
});
