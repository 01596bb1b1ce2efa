import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { PULL_CURSOR_LINE_PREFIX, PULL_TRAILER_LINE_PREFIX, type DeliveryManifest, type PullTrailer } from '@gdx/contracts';
import type { ManifestSigner } from '@gdx/auth';

/** What the gateway knows of a pull before its first byte: from the call, the route and data-query's headers. */
export type ManifestContext = Pick<DeliveryManifest, 'deliveryId' | 'recipientUnitId' | 'grantId' | 'resourceCode' | 'format' | 'cursorFrom'> & { nextCursor: string };

const NEWLINE = 0x0a;
const CURSOR_LINE = Buffer.from(PULL_CURSOR_LINE_PREFIX);
const END_LINE = Buffer.from(PULL_TRAILER_LINE_PREFIX);

/**
 * Passes a pull's body through while counting and hashing its records the way the manifest
 * defines them, then signs the manifest. NDJSON: every line but the cursor and trailer lines is
 * a record; the trailer line (data-query's own figures) is checked against the gateway's and
 * gets the signed manifest added. CSV: records are the lines after the header, a quoted field
 * may hold line breaks. JSON: records are the array's top-level objects. `manifest` is set
 * once the body has ended whole; a body whose figures disagree with data-query's is not signed.
 */
export class ManifestTransform extends Transform {
  manifest: string | null = null;
  private readonly hash = createHash('sha256');
  private bytes = 0;
  private records = 0;
  private pending: Buffer[] = [];
  // CSV: inside a quoted field; the header line seen. JSON: depth, inside a string, after a backslash.
  private quoted = false;
  private headerSeen = false;
  private depth = 0;
  private inString = false;
  private escaped = false;

  constructor(
    private readonly context: ManifestContext,
    private readonly signer: ManifestSigner,
    private readonly onMismatch: (detail: Record<string, unknown>) => void,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    if (this.context.format === 'ndjson') return this.ndjson(chunk, done);
    this.hash.update(chunk);
    this.bytes += chunk.length;
    if (this.context.format === 'csv') this.countCsv(chunk);
    else this.countJson(chunk);
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    if (this.context.format === 'ndjson') {
      // A body that did not end with a trailer line did not end whole: nothing to sign.
      if (this.pending.length) done(null, Buffer.concat(this.pending));
      else done();
      return;
    }
    this.manifest = this.sign(this.context.nextCursor, this.records, true);
    done();
  }

  private sign(cursorTo: string, records: number, complete: boolean): string {
    const c = this.context;
    return this.signer.sign({
      deliveryId: c.deliveryId,
      recipientUnitId: c.recipientUnitId,
      grantId: c.grantId,
      resourceCode: c.resourceCode,
      format: c.format,
      cursorFrom: c.cursorFrom,
      cursorTo,
      records,
      bytes: this.bytes,
      sha256: this.hash.copy().digest('hex'),
      complete,
    });
  }

  private ndjson(chunk: Buffer, done: TransformCallback): void {
    const out: Buffer[] = [];
    let start = 0;
    for (let i = chunk.indexOf(NEWLINE); i !== -1; i = chunk.indexOf(NEWLINE, start)) {
      const piece = chunk.subarray(start, i + 1);
      const line = this.pending.length ? Buffer.concat([...this.pending, piece]) : piece;
      this.pending = [];
      start = i + 1;
      out.push(this.line(line));
    }
    if (start < chunk.length) this.pending.push(chunk.subarray(start));
    done(null, out.length === 1 ? out[0] : Buffer.concat(out));
  }

  private line(line: Buffer): Buffer {
    if (line.subarray(0, CURSOR_LINE.length).equals(CURSOR_LINE)) return line;
    if (!line.subarray(0, END_LINE.length).equals(END_LINE)) {
      this.hash.update(line);
      this.bytes += line.length;
      this.records++;
      return line;
    }
    const { _end: end } = JSON.parse(line.toString('utf8')) as { _end: Partial<PullTrailer> };
    const sha256 = this.hash.copy().digest('hex');
    const theirs = Number(end.rows) + Number(end.tombstones);
    if (end.sha256 !== sha256 || end.bytes !== this.bytes || theirs !== this.records || typeof end.cursor !== 'string') {
      this.onMismatch({ deliveryId: this.context.deliveryId, theirs: { sha256: end.sha256, bytes: end.bytes, records: theirs }, ours: { sha256, bytes: this.bytes, records: this.records } });
      return Buffer.from(`${JSON.stringify({ _end: { ...end, manifest: null } })}\n`);
    }
    this.manifest = this.sign(end.cursor, this.records, end.complete === true);
    return Buffer.from(`${JSON.stringify({ _end: { ...end, manifest: this.manifest } })}\n`);
  }

  private countCsv(chunk: Buffer): void {
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i];
      if (b === 0x22) this.quoted = !this.quoted;
      else if (b === NEWLINE && !this.quoted) {
        if (this.headerSeen) this.records++;
        else this.headerSeen = true;
      }
    }
  }

  private countJson(chunk: Buffer): void {
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i];
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (b === 0x5c) this.escaped = true;
        else if (b === 0x22) this.inString = false;
      } else if (b === 0x22) this.inString = true;
      else if (b === 0x7b || b === 0x5b) {
        if (b === 0x7b && this.depth === 1) this.records++;
        this.depth++;
      } else if (b === 0x7d || b === 0x5d) this.depth--;
    }
  }
}
