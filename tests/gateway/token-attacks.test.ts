import { createHmac, createPublicKey, createSign, generateKeyPairSync, sign as edSign } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import type { App } from '@gdx/service-kit';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { deleteKeys, testPrefix } from '../helpers/redis';
import { addUser, startGateway, type TestUser } from '../helpers/gateway';
import { watchTrail } from '../helpers/trail';

let db: TestDatabase;
let app: App;
let user: TestUser;
let keysDir: string;
const prefix = testPrefix();
const trail = watchTrail();

const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

beforeAll(async () => {
  db = await createTestDatabase();
  keysDir = mkdtempSync(join(tmpdir(), 'gdx-keys-'));
  app = await startGateway(db.url, prefix, { keysDir }, trail.onCall);
  user = await addUser(app, 'GA', ['unit_admin']);
});
afterAll(async () => {
  await trail.check(prefix);
  await app?.close();
  await db?.drop();
  await deleteKeys(prefix);
  trail.assertComplete();
});

function keyFile(): string {
  return join(keysDir, readdirSync(keysDir).find((f) => f.endsWith('.pem')) as string);
}

function parts(token: string) {
  const [h, p, s] = token.split('.');
  return { header: JSON.parse(Buffer.from(h, 'base64url').toString()), payload: JSON.parse(Buffer.from(p, 'base64url').toString()), signature: s };
}

/** Signs header.payload with the gateway's real private key, so only the claim under test is wrong. */
function signWithRealKey(header: object, payload: object): string {
  const key = readFileSync(keyFile());
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${edSign(null, Buffer.from(input), key).toString('base64url')}`;
}

const call = (token: string) => request(app.server).get('/api/v1/units').set('authorization', `Bearer ${token}`);

test('the genuine token is accepted (the baseline of every attack below)', async () => {
  await call(user.token).expect(200);
  const { header, payload } = parts(user.token);
  await call(signWithRealKey(header, payload)).expect(200);
});

describe('every forged or broken token answers 401 problem+json', () => {
  const cases: [string, () => string][] = [
    [
      'alg none, no signature',
      () => {
        const { header, payload } = parts(user.token);
        return `${b64({ ...header, alg: 'none' })}.${b64(payload)}.`;
      },
    ],
    [
      'alg none with the original signature',
      () => {
        const { header, payload, signature } = parts(user.token);
        return `${b64({ ...header, alg: 'none' })}.${b64(payload)}.${signature}`;
      },
    ],
    [
      'HS256 signed with the public key as HMAC secret',
      () => {
        const { header, payload } = parts(user.token);
        const pem = createPublicKey(readFileSync(keyFile())).export({ type: 'spki', format: 'pem' }).toString();
        const input = `${b64({ ...header, alg: 'HS256' })}.${b64(payload)}`;
        return `${input}.${createHmac('sha256', pem).update(input).digest('base64url')}`;
      },
    ],
    [
      'wrong issuer',
      () => {
        const { header, payload } = parts(user.token);
        return signWithRealKey(header, { ...payload, iss: 'evil' });
      },
    ],
    [
      'wrong audience',
      () => {
        const { header, payload } = parts(user.token);
        return signWithRealKey(header, { ...payload, aud: 'another-api' });
      },
    ],
    [
      'no exp',
      () => {
        const { header, payload } = parts(user.token);
        const p = { ...payload };
        delete p.exp;
        return signWithRealKey(header, p);
      },
    ],
    [
      'expired',
      () => {
        const { header, payload } = parts(user.token);
        return signWithRealKey(header, { ...payload, iat: payload.iat - 7200, exp: Math.floor(Date.now() / 1000) - 60 });
      },
    ],
    [
      'nbf in the future',
      () => {
        const { header, payload } = parts(user.token);
        return signWithRealKey(header, { ...payload, nbf: Math.floor(Date.now() / 1000) + 3600 });
      },
    ],
    [
      'bad signature',
      () => {
        const { header, payload } = parts(user.token);
        const forged = { ...payload, unit: '00000000-0000-0000-0000-000000000000', roles: ['office_admin'] };
        return `${b64(header)}.${b64(forged)}.${parts(user.token).signature}`;
      },
    ],
    [
      'signed by a key the platform does not know, same kid',
      () => {
        const { header, payload } = parts(user.token);
        const { privateKey } = generateKeyPairSync('ed25519');
        const input = `${b64(header)}.${b64({ ...payload, roles: ['office_admin'] })}`;
        return `${input}.${edSign(null, Buffer.from(input), privateKey).toString('base64url')}`;
      },
    ],
    [
      'unknown kid',
      () => {
        const { header, payload } = parts(user.token);
        return signWithRealKey({ ...header, kid: 'nope' }, payload);
      },
    ],
    [
      'no kid',
      () => {
        const { header, payload } = parts(user.token);
        const h = { ...header };
        delete h.kid;
        return signWithRealKey(h, payload);
      },
    ],
    [
      'RS256 header with an RSA key of the attacker',
      () => {
        const { header, payload } = parts(user.token);
        const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
        const input = `${b64({ ...header, alg: 'RS256' })}.${b64(payload)}`;
        return `${input}.${createSign('RSA-SHA256').update(input).sign(privateKey).toString('base64url')}`;
      },
    ],
    ['garbage in the header', () => `${b64('{{{not json')}.${b64({})}.x`],
    ['not a JWT at all', () => 'hello'],
    ['empty bearer', () => ''],
  ];

  test.each(cases)('%s', async (_name, forge) => {
    const res = await call(forge());
    expect(res.status).toBe(401);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(['TOKEN_INVALID', 'TOKEN_EXPIRED', 'UNAUTHENTICATED']).toContain(res.body.code);
  });

  // Calls carried in a batch (the gateway's channel to data-query) bring their token in the body:
  // the verifier for them must refuse exactly what the request hook refuses.
  test.each(cases)('%s, carried in a body, is refused by app.authenticate too', async (_name, forge) => {
    const refusal = await app.authenticate(`Bearer ${forge()}`).then(
      () => null,
      (err: { status?: number; code?: string }) => err,
    );
    expect(refusal).toMatchObject({ status: 401 });
    expect(['TOKEN_INVALID', 'TOKEN_EXPIRED', 'UNAUTHENTICATED']).toContain(refusal?.code);
  });

  test('app.authenticate accepts the genuine token and names its caller; no header or another scheme is refused', async () => {
    await expect(app.authenticate(`Bearer ${user.token}`)).resolves.toMatchObject({ kind: 'account', subject: user.id, unitId: user.unitId });
    await expect(app.authenticate(undefined)).rejects.toMatchObject({ status: 401, code: 'UNAUTHENTICATED' });
    await expect(app.authenticate(`Basic ${b64('a:b')}`)).rejects.toMatchObject({ status: 401, code: 'UNAUTHENTICATED' });
    const { header, payload } = parts(user.token);
    await expect(app.authenticate(`Bearer ${signWithRealKey(header, { ...payload, iat: payload.iat - 7200, exp: Math.floor(Date.now() / 1000) - 60 })}`)).rejects.toMatchObject({
      status: 401,
      code: 'TOKEN_EXPIRED',
    });
  });

  test('a remembered token is not remembered past its exp', async () => {
    const { header, payload } = parts(user.token);
    const shortLived = signWithRealKey(header, { ...payload, exp: Math.floor(Date.now() / 1000) + 2 });
    await expect(app.authenticate(`Bearer ${shortLived}`)).resolves.toMatchObject({ subject: user.id });
    await expect(app.authenticate(`Bearer ${shortLived}`)).resolves.toMatchObject({ subject: user.id });
    await call(shortLived).expect(200);
    await new Promise((r) => setTimeout(r, 2100));
    await expect(app.authenticate(`Bearer ${shortLived}`)).rejects.toMatchObject({ status: 401, code: 'TOKEN_EXPIRED' });
    expect((await call(shortLived)).body.code).toBe('TOKEN_EXPIRED');
  });

  test('no Authorization header, or another scheme', async () => {
    expect((await request(app.server).get('/api/v1/units')).status).toBe(401);
    expect(
      (
        await request(app.server)
          .get('/api/v1/units')
          .set('authorization', `Basic ${b64('a:b')}`)
      ).status,
    ).toBe(401);
  });
});
