/**
 * `npm run keys -- new <dir>`: a new Ed25519 signing key (PKCS#8 PEM, named by its key id) for
 * KEYS_DIR (tokens), MANIFEST_KEYS_DIR (delivery manifests) or AUDIT_KEYS_DIR (checkpoints).
 * The newest key in a directory signs; the older ones keep verifying what they signed.
 */
import { writeNewKey } from '@gdx/auth';

const [verb, dir] = process.argv.slice(2);
if (verb !== 'new' || !dir) {
  console.error('usage: npm run keys -- new <dir>');
  process.exit(2);
}
console.log(`gdx: new key ${writeNewKey(dir)} in ${dir}`);
