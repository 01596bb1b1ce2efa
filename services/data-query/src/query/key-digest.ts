import { createHmac, hkdfSync, type KeyObject } from 'node:crypto';

/** An identity number (GB 11643): 6 region digits, 8 of birth date, 3 of sequence, a check character. */
const RESIDENT_ID = /^\d{17}[\dXx]$/;
const MAX_KEYS = 100;

export interface KeyDigest {
  digest: string;
  seq?: number;
}

/**
 * The keys an interface query asks for, as the audit record carries them: never in clear, a
 * keyed digest each (HMAC-SHA256 under a key derived from the platform's manifest signing key,
 * so every replica digests alike and no reader of the trail can test a guess). An identity
 * number's digest leaves out its sequence code, which is given as a number: a run of
 * consecutive numbers (enumeration) is then visible to inspection, the persons are not.
 */
export class KeyDigester {
  private readonly key: Buffer;

  constructor(signingKey: KeyObject) {
    this.key = Buffer.from(hkdfSync('sha256', signingKey.export({ type: 'pkcs8', format: 'der' }), Buffer.alloc(0), 'gdx query key digest', 32));
  }

  keys(where: Record<string, unknown> | undefined): KeyDigest[] {
    const out: KeyDigest[] = [];
    for (const [name, condition] of Object.entries(where ?? {})) {
      const values = isScalar(condition) ? [condition] : Array.isArray((condition as { in?: unknown } | null)?.in) ? (condition as { in: unknown[] }).in.filter(isScalar) : [];
      for (const v of values) {
        if (out.length >= MAX_KEYS) return out;
        const text = String(v);
        out.push(RESIDENT_ID.test(text) ? { digest: this.digest(name, text.slice(0, 14)), seq: Number(text.slice(14, 17)) } : { digest: this.digest(name, text) });
      }
    }
    return out;
  }

  private digest(name: string, value: string): string {
    return createHmac('sha256', this.key).update(`${name}\u0000${value}`).digest('hex').slice(0, 16);
  }
}

function isScalar(v: unknown): v is string | number {
  return typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v));
}
