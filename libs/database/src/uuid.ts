import { randomFillSync } from 'node:crypto';

/**
 * Random bytes drawn from a buffer refilled 8 KiB at a time: one getrandom call per
 * few hundred ids instead of one or more per id, which on a hot path (every query is
 * audited) is the difference between a few and twenty-odd microseconds on a VM.
 */
export class RandomPool {
  private buf = Buffer.alloc(8192);
  private off = this.buf.length;

  take(n: number): Buffer {
    if (this.off + n > this.buf.length) {
      randomFillSync(this.buf);
      this.off = 0;
    }
    const out = Buffer.from(this.buf.subarray(this.off, this.off + n));
    this.off += n;
    return out;
  }
}

export const randomPool = new RandomPool();

/**
 * UUIDv7 (RFC 9562): time-ordered, so primary keys and event ids insert at the
 * right edge of their B-tree and sort by creation time.
 */
export function uuidv7(now = Date.now()): string {
  const b = randomPool.take(16);
  b.writeUIntBE(now, 0, 6);
  b[6] = (b[6] & 0x0f) | 0x70;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
