import { createHmac } from 'node:crypto';
import { newSigningSecret, signWebhook, verifyWebhook } from '@gdx/data-query/testing';

/**
 * Push deliveries are signed per Standard Webhooks, so receivers can use that scheme's
 * libraries. The reference vector proves we sign as they verify; the rest proves a
 * verifier built on our function refuses what it must.
 */

// The vector published with the Standard Webhooks specification and its libraries.
const VECTOR = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
};
const AT_VECTOR = VECTOR.timestamp * 1000;

function headersOf(id: string, timestamp: number | string, signature: string): Record<string, string> {
  return { 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': signature };
}

describe('webhook signatures', () => {
  test('the reference vector is what an independent HMAC-SHA256 gives, and what we sign and accept', () => {
    const key = Buffer.from(VECTOR.secret.slice('whsec_'.length), 'base64');
    const independent = createHmac('sha256', key).update(`${VECTOR.id}.${VECTOR.timestamp}.${VECTOR.body}`).digest('base64');
    expect(`v1,${independent}`).toBe(VECTOR.signature);

    expect(signWebhook(VECTOR.secret, VECTOR.id, VECTOR.timestamp, VECTOR.body)).toBe(VECTOR.signature);
    expect(signWebhook(VECTOR.secret, VECTOR.id, VECTOR.timestamp, Buffer.from(VECTOR.body))).toBe(VECTOR.signature);
    expect(verifyWebhook(VECTOR.secret, headersOf(VECTOR.id, VECTOR.timestamp, VECTOR.signature), VECTOR.body, { now: AT_VECTOR })).toBe(true);
    expect(verifyWebhook(VECTOR.secret, headersOf(VECTOR.id, VECTOR.timestamp, VECTOR.signature), Buffer.from(VECTOR.body), { now: AT_VECTOR })).toBe(true);
  });

  test('a tampered body, id or timestamp fails', () => {
    const ok = headersOf(VECTOR.id, VECTOR.timestamp, VECTOR.signature);
    expect(verifyWebhook(VECTOR.secret, ok, '{"test": 2432232315}', { now: AT_VECTOR })).toBe(false);
    expect(verifyWebhook(VECTOR.secret, ok, `${VECTOR.body} `, { now: AT_VECTOR })).toBe(false);
    expect(verifyWebhook(VECTOR.secret, { ...ok, 'webhook-id': 'msg_p5jXN8AQM9LWM0D4loKWxJeK' }, VECTOR.body, { now: AT_VECTOR })).toBe(false);
    expect(verifyWebhook(VECTOR.secret, { ...ok, 'webhook-timestamp': String(VECTOR.timestamp + 1) }, VECTOR.body, { now: AT_VECTOR })).toBe(false);
    // Numerically equal spellings are not the signed text.
    expect(verifyWebhook(VECTOR.secret, { ...ok, 'webhook-timestamp': `0${VECTOR.timestamp}` }, VECTOR.body, { now: AT_VECTOR })).toBe(false);
  });

  test('another secret, a missing header or a malformed signature fails', () => {
    const ok = headersOf(VECTOR.id, VECTOR.timestamp, VECTOR.signature);
    expect(verifyWebhook(newSigningSecret(), ok, VECTOR.body, { now: AT_VECTOR })).toBe(false);
    for (const name of Object.keys(ok)) expect(verifyWebhook(VECTOR.secret, { ...ok, [name]: undefined }, VECTOR.body, { now: AT_VECTOR })).toBe(false);
    for (const signature of ['', 'v1,', 'v1', VECTOR.signature.slice(3), `v2,${VECTOR.signature.slice(3)}`, VECTOR.signature.slice(0, -4)]) {
      expect(verifyWebhook(VECTOR.secret, { ...ok, 'webhook-signature': signature }, VECTOR.body, { now: AT_VECTOR })).toBe(false);
    }
    expect(verifyWebhook(VECTOR.secret, { ...ok, 'webhook-timestamp': '1614265330.0' }, VECTOR.body, { now: AT_VECTOR })).toBe(false);
  });

  test('headers are found whatever their case', () => {
    const headers = { 'Webhook-Id': VECTOR.id, 'WEBHOOK-TIMESTAMP': String(VECTOR.timestamp), 'Webhook-Signature': VECTOR.signature };
    expect(verifyWebhook(VECTOR.secret, headers, VECTOR.body, { now: AT_VECTOR })).toBe(true);
  });

  test('stale and future timestamps fail outside the tolerance, either way', () => {
    const ok = headersOf(VECTOR.id, VECTOR.timestamp, VECTOR.signature);
    const at = (seconds: number, toleranceSeconds?: number) => verifyWebhook(VECTOR.secret, ok, VECTOR.body, { now: AT_VECTOR + seconds * 1000, toleranceSeconds });
    expect(at(300)).toBe(true);
    expect(at(-300)).toBe(true);
    expect(at(301)).toBe(false);
    expect(at(-301)).toBe(false);
    expect(at(3600)).toBe(false);
    expect(at(-3600)).toBe(false);
    expect(at(30, 10)).toBe(false);
    expect(at(-30, 10)).toBe(false);
    expect(at(5, 10)).toBe(true);
    // Without `now` the clock decides: the vector is years old.
    expect(verifyWebhook(VECTOR.secret, ok, VECTOR.body)).toBe(false);
  });

  test('during a rotation a delivery signed with old and new secrets verifies with either', () => {
    const old = newSigningSecret();
    const fresh = newSigningSecret();
    const now = Date.now();
    const ts = Math.floor(now / 1000);
    const body = '{"sequence":17,"rows":[]}';
    const header = signWebhook([old, fresh], 'dlv_17', ts, body);
    const entries = header.split(' ');
    expect(entries).toHaveLength(2);
    expect(entries[0]).toBe(signWebhook(old, 'dlv_17', ts, body));
    expect(entries[1]).toBe(signWebhook(fresh, 'dlv_17', ts, body));
    for (const secret of [old, fresh]) expect(verifyWebhook(secret, headersOf('dlv_17', ts, header), body, { now })).toBe(true);
    // Entries of versions we do not know are skipped, not fatal.
    expect(verifyWebhook(fresh, headersOf('dlv_17', ts, `v1a,AAAA ${entries[1]}`), body, { now })).toBe(true);
    expect(verifyWebhook(newSigningSecret(), headersOf('dlv_17', ts, header), body, { now })).toBe(false);
  });

  test('new secrets are whsec_ and 32 random bytes; malformed or short secrets are refused', () => {
    const a = newSigningSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(a.slice(6), 'base64')).toHaveLength(32);
    expect(newSigningSecret()).not.toBe(a);
    // Receivers' libraries accept the key without its prefix; so do we.
    expect(signWebhook(VECTOR.secret.slice(6), VECTOR.id, VECTOR.timestamp, VECTOR.body)).toBe(VECTOR.signature);
    expect(() => signWebhook('whsec_not base64!', 'x', 1, '')).toThrow(/base64/);
    expect(() => signWebhook('whsec_c2hvcnQ=', 'x', 1, '')).toThrow(/shorter/);
    expect(() => signWebhook([], 'x', 1, '')).toThrow();
    expect(() => signWebhook(a, 'x', 1.5, '')).toThrow();
  });
});
