import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { FastifyBaseLogger } from 'fastify';
import type { BearerVerifier } from '@gdx/auth';
import { QueryBodySchema, type BatchedCall, type BatchedResult, type QueryBody } from '@gdx/contracts';
import { AppError, InternalError, problemOf } from '@gdx/errors';
import type { QueryService } from './query.service';

const checkBody = TypeCompiler.Compile(QueryBodySchema);

/** The first thing wrong with a query body, worded like the single call's validation message. */
function invalidBody(body: unknown): string | undefined {
  if (checkBody.Check(body)) return undefined;
  const first = checkBody.Errors(body).First();
  return first ? `body${first.path.replace(/\//g, '.')} ${first.message.toLowerCase()}` : 'body is invalid';
}

/**
 * Interface queries that arrive together in one request (the gateway's channel to
 * this service). Each call is answered exactly as `POST /api/v1/query/{code}` would
 * answer it on its own: its own bearer token verified with the same rules, its body
 * validated, the grant checked again, the row filter and masking applied and its
 * own audit event written before its result is released. What the batch saves is
 * the HTTP exchange per call, and the calls' lookups and audit events leave
 * together.
 */
export class QueryBatchService {
  constructor(
    private readonly queries: QueryService,
    private readonly authenticate: BearerVerifier,
    private readonly log: FastifyBaseLogger,
  ) {}

  /** `fromGateway`: the batch carries the gateway's service token, so the calls' `sourceAddress` is the gateway's word; otherwise the peer is the source. */
  answer(calls: BatchedCall[], peerAddress: string, fromGateway: boolean, elapsedMs: () => number): Promise<BatchedResult[]> {
    return Promise.all(calls.map((call) => this.one(call, peerAddress, fromGateway, elapsedMs)));
  }

  private async one(call: BatchedCall, peerAddress: string, fromGateway: boolean, elapsedMs: () => number): Promise<BatchedResult> {
    try {
      const principal = await this.authenticate(call.authorization);
      const body = call.body as QueryBody;
      const result = await this.queries.query({
        principal,
        code: call.code,
        body,
        invalid: invalidBody(body),
        requestId: call.requestId,
        sourceAddress: (fromGateway && call.sourceAddress) || peerAddress,
        peerAddress,
        elapsedMs,
        traceparent: call.traceparent,
      });
      return { status: 200, body: result };
    } catch (err) {
      const error = err instanceof AppError ? err : new InternalError();
      if (error.status >= 500) this.log.warn({ err, requestId: call.requestId }, 'batched query failed');
      const body = problemOf(error, `/api/v1/query/${encodeURIComponent(call.code)}`, call.requestId);
      return { status: error.status, ...(Object.keys(error.headers).length ? { headers: error.headers } : {}), body };
    }
  }
}
