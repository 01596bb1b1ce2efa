import { createSigner } from 'fast-jwt';
import { MANIFEST_TYP, type DeliveryManifest } from '@gdx/contracts';
import type { KeyStore } from './key-store';

/**
 * Signs delivery manifests with a key store's current key (published in the platform's JWKS), as a
 * JWT of typ MANIFEST_TYP: the gateway signs the manifests of pulls, data-query those of push deliveries.
 */
export class ManifestSigner {
  private signers = new Map<string, (payload: Record<string, unknown>) => string>();

  constructor(
    private readonly keys: KeyStore,
    private readonly issuer: string,
  ) {}

  sign(manifest: DeliveryManifest, now = Date.now()): string {
    const key = this.keys.current();
    let sign = this.signers.get(key.kid);
    if (!sign) {
      sign = createSigner<Record<string, unknown>>({
        key: key.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
        algorithm: 'EdDSA',
        kid: key.kid,
        header: { alg: 'EdDSA', typ: MANIFEST_TYP },
      });
      this.signers.set(key.kid, sign);
    }
    return sign({ iss: this.issuer, iat: Math.floor(now / 1000), ...manifest });
  }
}
