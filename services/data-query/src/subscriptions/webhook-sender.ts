import { request as httpRequest, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';

export interface SendResult {
  status: number;
  address: string;
  latencyMs: number;
}

export class SendError extends Error {
  constructor(
    message: string,
    readonly address: string,
    readonly latencyMs: number,
  ) {
    super(message);
  }
}

/**
 * A lookup that answers only the addresses checkWebhookUrl vetted: the request connects to one
 * of them and never resolves the name again (no DNS rebinding between the check and the
 * connection); the URL's host still names the Host header and the TLS server name.
 */
function pinned(addresses: string[]): LookupFunction {
  const entries = addresses.map((address) => ({ address, family: isIP(address) }));
  return ((_host: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    if (options?.all) callback(null, entries);
    else callback(null, entries[0].address, entries[0].family);
  }) as unknown as LookupFunction;
}

/**
 * POSTs one delivery to `url`, connecting only to `addresses`; no redirect is followed (a 3xx is
 * a failed attempt), the answer's body is read and dropped, and the whole exchange is bounded by
 * `timeoutMs`. Resolves with the status of any answer; rejects when there was none.
 */
export function postWebhook(url: URL, addresses: string[], headers: Record<string, string>, body: Buffer, timeoutMs: number): Promise<SendResult> {
  const started = performance.now();
  const elapsed = () => Math.round((performance.now() - started) * 10) / 10;
  let connected = addresses[0] ?? '';
  return new Promise<SendResult>((resolve, reject) => {
    const options: RequestOptions = {
      method: 'POST',
      headers: { ...headers, 'content-length': String(body.length) },
      lookup: pinned(addresses),
      // A connection of its own: a pooled one could have been opened to an address vetted for another check.
      agent: false,
    };
    const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, options, (res) => {
      const status = res.statusCode ?? 0;
      const latencyMs = elapsed();
      res.resume();
      res.on('end', () => resolve({ status, address: connected, latencyMs }));
      res.on('error', () => resolve({ status, address: connected, latencyMs }));
    });
    const timer = setTimeout(() => req.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    req.on('socket', (socket) => socket.on('connect', () => (connected = socket.remoteAddress ?? connected)));
    req.on('error', (err) => reject(new SendError(err.message, connected, elapsed())));
    req.on('close', () => clearTimeout(timer));
    req.end(body);
  });
}
