import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface SigningKey {
  kid: string;
  privateKey: KeyObject;
  publicPem: string;
  jwk: Jwk;
  /** When the key file appeared; a key signs only once every service could have learnt it. */
  addedAt: number;
}

export interface Jwk {
  kty: string;
  crv: string;
  x: string;
  kid: string;
  alg: string;
  use: string;
  /** `manifest`: a key that signs delivery manifests only; token verifiers never accept it (JwksClient skips it). */
  gdx_use?: 'manifest';
}

/** The JWK marker of delivery-manifest keys, published in the same JWKS as the token keys. */
export const MANIFEST_KEY_USE = 'manifest';

const KID = /^[A-Za-z0-9_-]{1,64}$/;

/** Kids carry their creation time for operators; the store orders keys by file time. */
export function newKid(now = new Date()): string {
  return `${now.toISOString().replace(/[-:]/g, '').replace(/\..*$/, '')}-${randomBytes(3).toString('hex')}`;
}

export function writeNewKey(dir: string, now = new Date()): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const kid = newKid(now);
  const { privateKey } = generateKeyPairSync('ed25519');
  writeFileSync(join(dir, `${kid}.pem`), privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  return kid;
}

/**
 * Ed25519 signing keys from a directory (`<kid>.pem`): the gateway's token keys, data-query's
 * delivery-manifest keys (`purpose: 'manifest'`, marked so in the JWKS). Rotation without downtime:
 * put a new key file in the directory (a Kubernetes secret update does that); each
 * replica re-reads the directory and publishes every key in the JWKS at once, but signs
 * with a new key only after `activationDelayMs`, longer than the services' JWKS refetch
 * throttle, so no service ever meets a kid it cannot fetch yet. Services that meet an unknown kid refetch the JWKS. Remove an old key once
 * the tokens it signed have expired.
 */
export class KeyStore {
  private keys: SigningKey[] = [];

  constructor(
    private readonly dir: string,
    private readonly generate: boolean,
    private readonly activationDelayMs = 10_000,
    private readonly purpose: 'token' | 'manifest' = 'token',
  ) {}

  load(): void {
    let files: string[] = [];
    try {
      files = readdirSync(this.dir).filter((f) => f.endsWith('.pem'));
    } catch {
      files = [];
    }
    if (!files.length && this.generate) {
      writeNewKey(this.dir);
      files = readdirSync(this.dir).filter((f) => f.endsWith('.pem'));
    }
    const keys: SigningKey[] = [];
    for (const f of files.sort()) {
      const kid = f.slice(0, -4);
      if (!KID.test(kid)) continue;
      const privateKey = createPrivateKey(readFileSync(join(this.dir, f)));
      if (privateKey.asymmetricKeyType !== 'ed25519') continue;
      const pub = createPublicKey(privateKey);
      const jwk = pub.export({ format: 'jwk' }) as { kty: string; crv: string; x: string };
      keys.push({
        kid,
        addedAt: statSync(join(this.dir, f)).mtimeMs,
        privateKey,
        publicPem: pub.export({ type: 'spki', format: 'pem' }).toString(),
        jwk: { kty: jwk.kty, crv: jwk.crv, x: jwk.x, kid, alg: 'EdDSA', use: 'sig', ...(this.purpose === 'manifest' ? { gdx_use: MANIFEST_KEY_USE } : {}) },
      });
    }
    if (!keys.length) throw new Error(`no Ed25519 signing key in ${this.dir} (set GENERATE_KEYS=true for development)`);
    // Oldest first, by when the file appeared (kids of one second would not order reliably).
    this.keys = keys.sort((a, b) => a.addedAt - b.addedAt || a.kid.localeCompare(b.kid));
  }

  current(now = Date.now()): SigningKey {
    const active = this.keys.filter((k) => k.addedAt <= now - this.activationDelayMs);
    // Nothing old enough (first start, every key brand new): the oldest, the one published longest.
    return active[active.length - 1] ?? this.keys[0];
  }

  publicKey(kid: string): string | undefined {
    return this.keys.find((k) => k.kid === kid)?.publicPem;
  }

  jwks(): { keys: Jwk[] } {
    return { keys: this.keys.map((k) => k.jwk) };
  }
}
