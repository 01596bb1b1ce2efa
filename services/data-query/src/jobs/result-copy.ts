import type { PoolClient } from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { isUuidText } from '@gdx/service-kit';

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');

/**
 * A job's result lines in order, read with `COPY … TO STDOUT (FORMAT binary)`: one statement that
 * streams the whole result at PostgreSQL's own pace (a query per window would sort and aggregate
 * each window), each line's bytes exactly as stored (the text format would escape backslashes).
 * Yields buffers of whole lines (blocks of them), each followed by `\n`, as the NDJSON result is served and hashed.
 */
export async function* resultLines(client: PoolClient, jobId: string): AsyncGenerator<Buffer> {
  // COPY takes no parameters: the id is a checked UUID, the only thing put into the statement.
  if (!isUuidText(jobId)) throw new Error('not a job id');
  const stream = client.query(copyTo(`COPY (SELECT block FROM job_result WHERE job_id = '${jobId}' ORDER BY seq) TO STDOUT (FORMAT binary)`));
  let pending: Buffer = Buffer.alloc(0);
  let headerRead = false;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    let at = 0;
    if (!headerRead) {
      if (pending.length < 19) continue;
      if (!pending.subarray(0, 11).equals(SIGNATURE)) throw new Error('not a binary COPY stream');
      at = 19 + pending.readUInt32BE(15);
      headerRead = true;
    }
    const out: Buffer[] = [];
    // Each tuple: a 16-bit field count (-1 ends the stream), then the field's 32-bit length and bytes.
    while (pending.length - at >= 2) {
      const fields = pending.readInt16BE(at);
      if (fields === -1) {
        at += 2;
        break;
      }
      if (pending.length - at < 6) break;
      const length = pending.readInt32BE(at + 2);
      if (pending.length - at < 6 + length) break;
      out.push(pending.subarray(at + 6, at + 6 + length), NEWLINE);
      at += 6 + length;
    }
    pending = pending.subarray(at);
    if (out.length) yield Buffer.concat(out);
  }
}

const NEWLINE = Buffer.from('\n');
