import { MANIFEST_TYP, type DeliveryManifest } from '@gdx/contracts';
import { CurrentKeySigner } from './current-key-signer';
import type { KeyStore } from './key-store';

/**
 * Signs delivery manifests with a key store's current key (published in the platform's JWKS), as a
 * JWT of typ MANIFEST_TYP: the gateway signs the manifests of pulls, data-query those of push deliveries.
 */
export class ManifestSigner {
  private readonly signer: CurrentKeySigner;

  constructor(
    keys: KeyStore,
    private readonly issuer: string,
  ) {
    this.signer = new CurrentKeySigner(keys, MANIFEST_TYP);
  }

  sign(manifest: DeliveryManifest, now = Date.now()): string {
    return this.signer.sign({ iss: this.issuer, iat: Math.floor(now / 1000), ...manifest });
  }
}
