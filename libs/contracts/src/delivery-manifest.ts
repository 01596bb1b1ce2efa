import { Type, type Static } from '@sinclair/typebox';

/**
 * The manifest of a data-call delivery (Art. 19, traceable deliveries): what went to whom
 * under which grant. The gateway, which sees every byte leave, counts and hashes the body
 * itself and signs the manifest with the platform's key, as a JWT (typ MANIFEST_TYP) that
 * anyone can verify with the public JWKS; the recipient keeps it beside the file.
 */
export const DeliveryManifestSchema = Type.Object(
  {
    deliveryId: Type.String({ format: 'uuid' }),
    recipientUnitId: Type.String({ format: 'uuid' }),
    grantId: Type.String({ format: 'uuid' }),
    resourceCode: Type.String(),
    format: Type.String(),
    cursorFrom: Type.Union([Type.String(), Type.Null()]),
    cursorTo: Type.String(),
    /** Records delivered: rows and tombstones. */
    records: Type.Integer({ minimum: 0 }),
    bytes: Type.Integer({ minimum: 0 }),
    /** SHA-256 (hex) of the records as sent, before compression (NDJSON: every line but the cursor and trailer lines). */
    sha256: Type.String(),
    complete: Type.Boolean(),
  },
  { $id: 'DeliveryManifest' },
);
export type DeliveryManifest = Static<typeof DeliveryManifestSchema>;

/** The JWT `typ` of a signed manifest: never an access token (no audience), never a service token. */
export const MANIFEST_TYP = 'gdx-manifest+jwt';

/** The HTTP trailer carrying the signed manifest of a pull (every format; NDJSON also carries it in its trailer line). */
export const MANIFEST_TRAILER = 'gdx-manifest';
