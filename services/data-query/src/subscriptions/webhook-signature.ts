import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Signatures for push deliveries, in the Standard Webhooks scheme
 * (https://www.standardwebhooks.com/), so that a receiving unit can verify them with any of
 * that scheme's libraries instead of code of ours.
 */

const PREFIX = 'whsec_';
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
/** The scheme recommends 24 to 64 bytes; fewer would make a guessable key. */
const MIN_KEY_BYTES = 24;

/** A fresh secret for one subscription: 256 bits, written as the scheme's libraries expect it. */
export function newSigningSecret(): string {
  return PREFIX + randomBytes(32).toString('base64');
}

/** The HMAC key a secret stands for. Without the prefix is accepted too: receivers' libraries accept both spellings. */
function keyOf(secret: string): Buffer {
  const encoded = secret.startsWith(PREFIX) ? secret.slice(PREFIX.length) : secret;
  // Buffer.from skips characters that are not base64, so a mistyped secret would otherwise yield a different, silent key.
  if (!BASE64.test(encoded) || encoded.length % 4 !== 0) throw new Error('webhook secret is not base64');
  const key = Buffer.from(encoded, 'base64');
  if (key.length < MIN_KEY_BYTES) throw new Error(`webhook secret is shorter than ${MIN_KEY_BYTES} bytes`);
  return key;
}

function mac(key: Buffer, id: string, timestampSeconds: number, body: string | Buffer): Buffer {
  // Fed in pieces so that a Buffer body is signed byte for byte, whatever its encoding.
  return createHmac('sha256', key).update(`${id}.${timestampSeconds}.`).update(body).digest();
}

/**
 * The `webhook-signature` header value. With several secrets (old and new during a rotation)
 * it carries one signature per secret, so receivers holding either one accept the delivery.
 */
export function signWebhook(secret: string | string[], id: string, timestampSeconds: number, body: string | Buffer): string {
  const secrets = Array.isArray(secret) ? secret : [secret];
  if (secrets.length === 0) throw new Error('no webhook secret to sign with');
  if (!Number.isSafeInteger(timestampSeconds) || timestampSeconds < 0) throw new Error('webhook timestamp must be whole seconds');
  return secrets.map((s) => `v1,${mac(keyOf(s), id, timestampSeconds, body).toString('base64')}`).join(' ');
}

/** Header lookup without regard to case: Node lower-cases incoming headers, other frameworks and tests may not. */
function header(headers: Record<string, string | undefined>, name: string): string | undefined {
  if (headers[name] !== undefined) return headers[name];
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
  return key === undefined ? undefined : headers[key];
}

export interface VerifyOptions {
  /** How far the timestamp may be from `now`, either way: bounds how long a captured delivery can be replayed. */
  toleranceSeconds?: number;
  /** Milliseconds since the epoch, as Date.now(). */
  now?: number;
}

/**
 * Whether a delivery carries a valid signature by `secret` with a timestamp within the
 * tolerance. Any one matching `v1,` entry suffices (the sender may be rotating secrets);
 * entries of other versions are ignored, as the scheme asks.
 */
export function verifyWebhook(secret: string, headers: Record<string, string | undefined>, body: string | Buffer, { toleranceSeconds = 300, now = Date.now() }: VerifyOptions = {}): boolean {
  const key = keyOf(secret);
  const id = header(headers, 'webhook-id');
  const timestamp = header(headers, 'webhook-timestamp');
  const signatures = header(headers, 'webhook-signature');
  if (!id || !timestamp || !signatures) return false;
  // Digits only: Number() would also take '1e9', ' 12' or '0x10', and the signed text is the header as sent.
  if (!/^\d{1,15}$/.test(timestamp)) return false;
  const ts = Number(timestamp);
  const nowSeconds = Math.floor(now / 1000);
  if (nowSeconds - ts > toleranceSeconds || ts - nowSeconds > toleranceSeconds) return false;
  const expected = createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest();
  let valid = false;
  for (const entry of signatures.split(' ')) {
    const comma = entry.indexOf(',');
    if (comma < 0 || entry.slice(0, comma) !== 'v1') continue;
    const given = Buffer.from(entry.slice(comma + 1), 'base64');
    // No early exit: how many entries were compared must not tell which one matched.
    if (given.length === expected.length && timingSafeEqual(given, expected)) valid = true;
  }
  return valid;
}
