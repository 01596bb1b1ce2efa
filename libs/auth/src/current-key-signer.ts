import { createSigner } from 'fast-jwt';
import type { KeyStore } from './key-store';

/**
 * JWTs of one `typ` signed with a key store's current key (EdDSA, its kid in the header): a
 * signer is made once per key, so a rotation is followed on the next call without a restart.
 */
export class CurrentKeySigner {
  private signers = new Map<string, (payload: Record<string, unknown>) => string>();

  constructor(
    private readonly keys: KeyStore,
    private readonly typ: string,
  ) {}

  sign(payload: Record<string, unknown>): string {
    const key = this.keys.current();
    let sign = this.signers.get(key.kid);
    if (!sign) {
      sign = createSigner<Record<string, unknown>>({
        key: key.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
        algorithm: 'EdDSA',
        kid: key.kid,
        header: { alg: 'EdDSA', typ: this.typ },
      });
      this.signers.set(key.kid, sign);
    }
    return sign(payload);
  }
}
