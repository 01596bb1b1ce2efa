import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A key and stream prefix of its own, so test files share one Redis without meeting. */
export function testPrefix(): string {
  return `t:${randomBytes(6).toString('hex')}:`;
}

export async function deleteKeys(prefix: string): Promise<void> {
  const r = new Redis(REDIS_URL);
  try {
    // The prefix's own keys, and its event streams, which start with their cluster hash tag `{<prefix>events}`.
    for (const pattern of [`${prefix}*`, `{${prefix}*`]) {
      let cursor = '0';
      do {
        const [next, keys] = await r.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
        if (keys.length) await r.del(...keys);
        cursor = next;
      } while (cursor !== '0');
    }
  } finally {
    r.disconnect();
  }
}
