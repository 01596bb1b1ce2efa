import { Pool } from 'undici';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { SERVICE_TOKEN_HEADER } from '@gdx/auth';
import { wellFormedTraceparent } from '@gdx/contracts';
import { PROBLEM_CONTENT_TYPE, sendProblem } from '@gdx/errors';
import type { App } from '@gdx/service-kit';
import { QueryChannel } from './query-channel';
import { queryChannelMetrics } from './query-channel.metrics';
import { markRecorded } from '../proxy/call-record';

export interface QueryForwarderOptions {
  dataQueryUrl: string;
  /** Batches to data-query outstanding at once, and calls per batch. */
  inFlight: number;
  maxCalls: number;
  /** The gateway's service token: data-query takes the callers' addresses from a batch only when the gateway vouches for it. */
  serviceToken?: () => string;
  /** How long a connection lives before the pool replaces it (see the gateway's upstreamConnectionTtlMs). */
  connectionTtlMs?: number;
}

export type Forward = (req: FastifyRequest, reply: FastifyReply, grantId: string) => Promise<FastifyReply>;

/**
 * Sends a call the gateway let through to data-query (through the batch channel)
 * and answers the caller with what data-query answered for it, as it is; when
 * data-query does not answer, 503 UPSTREAM_UNAVAILABLE.
 */
export function queryForwarder(app: App, { dataQueryUrl, inFlight, maxCalls, serviceToken, connectionTtlMs }: QueryForwarderOptions): Forward {
  // A plain keep-alive pool rather than the generic proxy: this is the platform's hottest path.
  // Its connections are replaced after a while (clientTtl): each new one is balanced afresh by
  // the Service in front of data-query, so replicas added later get calls too.
  const upstream = new Pool(dataQueryUrl, { connections: inFlight, pipelining: 1, keepAliveTimeout: 60_000, clientTtl: connectionTtlMs ?? null });
  app.addHook('onClose', async () => upstream.close());
  const channel = new QueryChannel(upstream, inFlight, maxCalls, undefined, (): Record<string, string> => (serviceToken ? { [SERVICE_TOKEN_HEADER]: serviceToken() } : {}));
  queryChannelMetrics(app.metrics, channel);

  return async (req, reply, grantId) => {
    let result;
    try {
      result = await channel.send({
        code: (req.params as { code: string }).code,
        authorization: req.headers.authorization as string,
        requestId: String(req.id),
        sourceAddress: req.ip,
        // Only a well-formed one: a call must not be able to spoil the batch it travels in.
        ...(wellFormedTraceparent(req.headers.traceparent) ? { traceparent: req.headers.traceparent as string } : {}),
        body: req.body,
      });
    } catch (err) {
      req.log.warn({ err, grantId }, 'data-query unavailable');
      return sendProblem(reply, { status: 503, code: 'UPSTREAM_UNAVAILABLE', title: 'Service unavailable', detail: 'The data-query service is not answering; try again shortly.' });
    }
    // data-query put the call on the record, answered or refused (a 503 above is recorded as a call).
    markRecorded(req);
    if (result.headers) reply.headers(result.headers);
    return reply
      .code(result.status)
      .type(result.status >= 400 ? PROBLEM_CONTENT_TYPE : 'application/json; charset=utf-8')
      .send(JSON.stringify(result.body));
  };
}
