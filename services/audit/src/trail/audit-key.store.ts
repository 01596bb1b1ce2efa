import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface PublicKeyEntry {
  keyId: string;
  /** SPKI PEM. */
  publicKey: string;
}

/** A key's id is its fingerprint: an export's public key can be matched to its checkpoints without trusting a name. */
export function keyIdOf(publicKey: KeyObject): string {
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('hex').slice(0, 32);
}

export function verifySignature(publicKeyPem: string, payload: string, signature: string): boolean {
  try {
    return verify(null, Buffer.from(payload), createPublicKey(publicKeyPem), Buffer.from(signature, 'base64url'));
  } catch {
    return false;
  }
}

/**
 * The Ed25519 keys that sign checkpoints, from a directory of PKCS#8 PEM files.
 * The newest file (by name) signs; every key in the directory still verifies, so a
 * rotated-out key keeps its old checkpoints checkable. On first start a key is
 * generated into the directory (development); production mounts a secret there.
 */
export class AuditKeyStore {
  private keys: { keyId: string; privateKey: KeyObject; publicPem: string }[] = [];

  constructor(
    private readonly dir: string,
    private readonly generate: boolean,
  ) {}

  load(): this {
    let files = this.pemFiles();
    if (!files.length && this.generate) {
      mkdirSync(this.dir, { recursive: true, mode: 0o700 });
      const { privateKey } = generateKeyPairSync('ed25519');
      const name = `${new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '')}.pem`;
      writeFileSync(join(this.dir, name), privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
      files = this.pemFiles();
    }
    const keys = [];
    for (const f of files) {
      const privateKey = createPrivateKey(readFileSync(join(this.dir, f)));
      if (privateKey.asymmetricKeyType !== 'ed25519') continue;
      const pub = createPublicKey(privateKey);
      keys.push({ keyId: keyIdOf(pub), privateKey, publicPem: pub.export({ type: 'spki', format: 'pem' }).toString() });
    }
    if (!keys.length) throw new Error(`no Ed25519 audit signing key in ${this.dir} (set GENERATE_AUDIT_KEY=true for development)`);
    this.keys = keys;
    return this;
  }

  /** The key that signs now: the newest. */
  currentKeyId(): string {
    return this.keys[this.keys.length - 1].keyId;
  }

  /** Signs with the newest key. */
  sign(payload: string): { keyId: string; signature: string } {
    const key = this.keys[this.keys.length - 1];
    return { keyId: key.keyId, signature: sign(null, Buffer.from(payload), key.privateKey).toString('base64url') };
  }

  publicKeys(): PublicKeyEntry[] {
    return this.keys.map((k) => ({ keyId: k.keyId, publicKey: k.publicPem }));
  }

  private pemFiles(): string[] {
    try {
      return readdirSync(this.dir)
        .filter((f) => f.endsWith('.pem'))
        .sort();
    } catch {
      return [];
    }
  }
}
