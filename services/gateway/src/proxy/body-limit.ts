import { Readable, Transform } from 'node:stream';
import type { FastifyRequest } from 'fastify';
import { AppError } from '@gdx/errors';

/** A refused upload is read to its end (so the connection stays usable) only up to this many times the limit; beyond, the connection is closed. */
const DRAIN_FACTOR = 16;

function tooLarge(limit: number): AppError {
  return new AppError(413, 'BODY_TOO_LARGE', 'Payload too large', `The body exceeds ${limit} bytes.`);
}

/**
 * The proxied routes' body parser: the gateway refuses a body over `limit` with
 * 413 itself, before anything reaches the service behind it. A body of a declared
 * length within the limit passes through as a stream (HTTP framing holds it to
 * that length); a chunked body is read first, counting bytes, and forwarded once
 * it is known to fit. A refused body is read to its end and discarded before the
 * answer, so the client reads the 413 instead of a reset and nothing of it is left
 * on the connection for the next call.
 */
export function limitedBody(defaultLimit: number) {
  return (req: FastifyRequest, payload: Readable, done: (err: Error | null, body?: unknown) => void): void => {
    // Upload routes (a job's input) set their own, larger limit and stream a chunked body through, counted, instead of holding it.
    const own = req.routeOptions.config?.uploadLimit;
    const limit = own ?? defaultLimit;
    const declared = req.headers['content-length'];
    if (declared !== undefined) {
      const length = Number(declared);
      if (length <= limit) return done(null, payload);
      if (length > limit * DRAIN_FACTOR) return done(tooLarge(limit));
      return discard(payload, () => done(tooLarge(limit)));
    }
    if (own !== undefined) return done(null, counted(payload, own));
    const chunks: Buffer[] = [];
    let received = 0;
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      if (received <= limit) return void chunks.push(chunk);
      payload.removeListener('data', onData);
      payload.removeListener('end', onEnd);
      payload.removeListener('error', onEnd);
      chunks.length = 0;
      discard(payload, () => done(tooLarge(limit)), limit * DRAIN_FACTOR - received);
    };
    // Still a stream for the proxy (which would re-encode a JSON body given as a buffer), now of a known size.
    const onEnd = (err?: Error) => (err ? done(err) : done(null, Readable.from([Buffer.concat(chunks)])));
    payload.on('data', onData);
    payload.on('end', onEnd);
    payload.on('error', onEnd);
  };
}

/** The body passed on as it arrives, cut off (the upstream call fails) once it exceeds `limit`. */
function counted(payload: Readable, limit: number): Readable {
  let received = 0;
  return payload.pipe(
    new Transform({
      transform(chunk: Buffer, _enc, next) {
        received += chunk.length;
        next(received > limit ? tooLarge(limit) : null, chunk);
      },
    }),
  );
}

/** Reads and drops the rest of `payload` (at most `budget` more bytes), then calls `then` once. */
function discard(payload: Readable, then: () => void, budget = Infinity): void {
  let left = budget;
  let called = false;
  const finish = () => {
    if (called) return;
    called = true;
    payload.removeListener('data', onData);
    then();
  };
  const onData = (chunk: Buffer) => {
    left -= chunk.length;
    if (left < 0) finish();
  };
  payload.on('data', onData);
  payload.once('end', finish);
  payload.once('error', finish);
  payload.once('close', finish);
  payload.resume();
}
