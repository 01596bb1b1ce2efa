import type { Pool } from 'undici';

/** One interface query as data-query's batch endpoint takes it. */
export interface ChannelCall {
  code: string;
  authorization: string;
  requestId: string;
  sourceAddress: string;
  traceparent?: string;
  body: unknown;
}

/** What the call would have answered on its own. */
export interface ChannelResult {
  status: number;
  headers?: Record<string, string>;
  body: unknown;
}

interface Pending {
  call: ChannelCall;
  resolve: (r: ChannelResult) => void;
  reject: (err: unknown) => void;
}

export class ChannelError extends Error {}

/**
 * The gateway's channel to data-query for interface queries. Calls that arrive
 * together leave together as one `POST /internal/v1/query-batches`: while `maxInFlight`
 * batches are out, new calls gather and leave in the next one. Under load one
 * HTTP exchange (on both sides), one row-key statement and one audit append
 * serve many callers; when idle a call waits only for the end of the current
 * turn of the event loop. Each call keeps its caller's own token, request id and
 * address, and data-query decides and audits it on its own.
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
  ) {}

  send(call: ChannelCall): Promise<ChannelResult> {
    return new Promise((resolve, reject) => {
      this.queue.push({ call, resolve, reject });
      if (!this.scheduled && this.inFlight < this.maxInFlight) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    while (this.queue.length && this.inFlight < this.maxInFlight) void this.post(this.queue.splice(0, this.maxCalls));
  }

  private async post(batch: Pending[]): Promise<void> {
    this.inFlight++;
    this.stats.batches++;
    this.stats.calls += batch.length;
    try {
      const res = await this.upstream.request({
        path: '/internal/v1/query-batches',
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-request-id': batch[0].call.requestId },
        body: JSON.stringify({ calls: batch.map((p) => p.call) }),
      });
      const text = await res.body.text();
      if (res.statusCode !== 200) throw new ChannelError(`data-query answered the batch with ${res.statusCode}`);
      const { results } = JSON.parse(text) as { results: ChannelResult[] };
      if (!Array.isArray(results) || results.length !== batch.length) throw new ChannelError('data-query answered a batch with the wrong number of results');
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
