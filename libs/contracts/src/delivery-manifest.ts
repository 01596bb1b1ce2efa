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

/** What data-query says of a pull before its first byte, in these headers; the gateway reads them to sign the manifest. */
export const PULL_HEADERS = { deliveryId: 'gdx-delivery-id', grantId: 'gdx-grant-id', nextCursor: 'gdx-next-cursor' } as const;

/**
 * The NDJSON pull's last line, `{"_end": PullTrailer}`: data-query writes it, the gateway checks its
 * figures against its own count and adds `manifest` (the signed JWT, or null when they disagree).
 * Cursor checkpoint lines are `{"_cursor": …}`; neither kind counts as a record.
 */
export interface PullTrailer {
  deliveryId: string;
  cursor: string;
  rows: number;
  tombstones: number;
  bytes: number;
  sha256: string;
  complete: boolean;
  error?: { code: string; detail: string };
  manifest?: string | null;
}
export const PULL_CURSOR_LINE_PREFIX = '{"_cursor":';
export const PULL_TRAILER_LINE_PREFIX = '{"_end":';

/** Where data-query publishes its delivery-manifest keys; the gateway merges them into the platform's JWKS. */
export const MANIFEST_KEYS_PATH = '/.well-known/manifest-keys.json';
