import { Type } from '@sinclair/typebox';

/** A JWKS as the platform publishes it (RFC 7517): Ed25519 keys; `gdx_use: manifest` marks keys that sign delivery manifests only. */
export const JwksSchema = Type.Object({
  keys: Type.Array(
    Type.Object({
      kty: Type.String(),
      crv: Type.String(),
      x: Type.String(),
      kid: Type.String(),
      alg: Type.String(),
      use: Type.String(),
      gdx_use: Type.Optional(Type.Literal('manifest', { description: 'Signs delivery manifests only (gdx-manifest+jwt); never a token.' })),
    }),
  ),
});
