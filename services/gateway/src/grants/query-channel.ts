import type { Pool } from 'undici';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { QUERY_BATCH_PATH, QueryBatchResultSchema, type BatchedCall, type BatchedResult } from '@gdx/contracts';

const isBatchResult = TypeCompiler.Compile(QueryBatchResultSchema);

interface Pending {
  call: BatchedCall;
  /** The call as it goes on the wire, serialised once when it is queued. */
  json: string;
  resolve: (r: BatchedResult) => void;
  reject: (err: unknown) => void;
}

/** data-query takes batches of up to 4 MiB (QUERY_BATCH_MAX_BYTES); a batch is closed well before that, whatever its calls weigh. */
export const MAX_BATCH_CHARS = 2 * 1_048_576;

export class ChannelError extends Error {}

/**
 * The gateway's channel to data-query for interface queries. Calls that arrive
 * together leave together as one `POST /internal/v1/query-batches`
 * (QUERY_BATCH_PATH): while `maxInFlight` batches are out, new calls gather and
 * leave in the next one. Under load one HTTP exchange (on both sides), one
 * row-key statement and one audit append serve many callers; when idle a call
 * waits only for the end of the current turn of the event loop. Each call keeps
 * its caller's own token, request id and address, and data-query decides and
 * audits it on its own.
 */
export class QueryChannel {
  private queue: Pending[] = [];
  private inFlight = 0;
  private scheduled = false;
  /** Calls answered and batches sent: their ratio is the batching achieved. */
  readonly stats = { calls: 0, batches: 0 };

  constructor(
    private readonly upstream: Pool,
    private readonly maxInFlight: number,
    private readonly maxCalls: number,
    private readonly maxChars = MAX_BATCH_CHARS,
    /** Headers by which the gateway vouches for the batch (its service token), computed per batch. */
    private readonly vouch: () => Record<string, string> = () => ({}),
  ) {}

  send(call: BatchedCall): Promise<BatchedResult> {
    return new Promise((resolve, reject) => {
      this.queue.push({ call, json: JSON.stringify(call), resolve, reject });
      if (!this.scheduled && this.inFlight < this.maxInFlight) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    while (this.queue.length && this.inFlight < this.maxInFlight) void this.post(this.queue.splice(0, this.nextBatchSize()));
  }

  /** As many queued calls as fit: at most maxCalls, and (but for a lone call) at most maxChars. */
  private nextBatchSize(): number {
    let chars = this.queue[0].json.length;
    let n = 1;
    while (n < this.queue.length && n < this.maxCalls && chars + this.queue[n].json.length + 1 <= this.maxChars) chars += this.queue[n++].json.length + 1;
    return n;
  }

  private async post(batch: Pending[]): Promise<void> {
    this.inFlight++;
    this.stats.batches++;
    this.stats.calls += batch.length;
    try {
      const res = await this.upstream.request({
        path: QUERY_BATCH_PATH,
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-request-id': batch[0].call.requestId, ...this.vouch() },
        body: `{"calls":[${batch.map((p) => p.json).join(',')}]}`,
      });
      const text = await res.body.text();
      if (res.statusCode !== 200) throw new ChannelError(`data-query answered the batch with ${res.statusCode}`);
      const answer: unknown = JSON.parse(text);
      // Nobody gets an answer the route could not send as it is.
      if (!isBatchResult.Check(answer) || !answer.results.every((r) => r.status >= 200 && r.status <= 599)) throw new ChannelError('data-query answered a batch with a malformed result');
      const { results } = answer;
      if (results.length !== batch.length) throw new ChannelError('data-query answered a batch with the wrong number of results');
      for (let i = 0; i < batch.length; i++) batch[i].resolve(results[i]);
    } catch (err) {
      for (const p of batch) p.reject(err);
    } finally {
      this.inFlight--;
      // What gathered during the round trip leaves now.
      if (!this.scheduled) this.flush();
    }
  }
}
