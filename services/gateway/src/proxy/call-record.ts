import type { FastifyReply, FastifyRequest } from 'fastify';
import { Counter } from 'prom-client';
import { actorOf } from '@gdx/auth';
import { createEvent, OWNER_UNIT_HEADER } from '@gdx/contracts';
import { PROBLEM_CODE_HEADER } from '@gdx/errors';
import { BatchedPublisher } from '@gdx/events';
import type { App } from '@gdx/service-kit';

/** Routes whose every call is already on the record exactly once by its own events. */
const RECORDED_ELSEWHERE = new Set(['POST /api/v1/query/:code', 'POST /api/v1/auth/token', 'POST /api/v1/auth/login']);

declare module 'fastify' {
  interface FastifyRequest {
    ownerUnitId?: string;
    problemCode?: string;
  }
}

function recorded(req: FastifyRequest): boolean {
  const path = req.url.split('?')[0];
  if (!path.startsWith('/api/v1/')) return false;
  return !RECORDED_ELSEWHERE.has(`${req.method} ${req.routeOptions.url ?? ''}`);
}

/**
 * §7: every call through the gateway, allowed or refused, on every /api/v1 route, is
 * on the record once (`call.completed`), visible to the caller's unit and to the unit
 * owning the object. Recorded after the answer left (it cannot be recalled): a record
 * that cannot be written is logged and counted, never silent.
 */
export function callRecords(app: App): void {
  const trail = new BatchedPublisher(app.redis, app.streamPrefix, 'call', { maxInFlight: 4 });
  const failed = new Counter({ name: 'gdx_gateway_call_records_failed_total', help: 'Calls answered whose call.completed record could not be written', registers: [app.metrics] });

  app.addHook('onSend', (req: FastifyRequest, reply: FastifyReply, payload: unknown, done: (err: null, payload: unknown) => void) => {
    // Every problem, the gateway's own and an upstream's streamed through, names its code in a header: taken off here, onto the record.
    // Both hints between services are taken off every answer, recorded or not.
    const code = reply.getHeader(PROBLEM_CODE_HEADER);
    if (code !== undefined) reply.removeHeader(PROBLEM_CODE_HEADER);
    const owner = reply.getHeader(OWNER_UNIT_HEADER);
    if (owner !== undefined) reply.removeHeader(OWNER_UNIT_HEADER);
    // The interface query (the hot path) and the sign-in routes are recorded by their own events.
    if (!recorded(req)) return done(null, payload);
    if (typeof code === 'string' && reply.statusCode >= 400 && /^[A-Z][A-Z0-9_]{0,63}$/.test(code)) req.problemCode = code;
    if (typeof owner === 'string' && /^[0-9a-f-]{36}$/i.test(owner)) req.ownerUnitId = owner.toLowerCase();
    done(null, payload);
  });

  app.addHook('onResponse', (req, reply, done) => {
    if (recorded(req)) {
      const p = req.principal as FastifyRequest['principal'] | null;
      const status = reply.statusCode;
      const path = req.url.split('?')[0].slice(0, 2048);
      const event = createEvent('call.completed', {
        actor: p ? actorOf(p) : { kind: 'anonymous' },
        subject: path,
        traceparent: typeof req.headers.traceparent === 'string' ? req.headers.traceparent : undefined,
        data: {
          method: req.method,
          route: req.routeOptions.url ?? path,
          path,
          status,
          result: status < 400 ? 'allowed' : 'denied',
          ...(p ? { unitId: p.unitId, ...(p.kind === 'account' ? { accountId: p.subject } : { clientId: p.subject }) } : {}),
          requestId: String(req.id),
          sourceAddress: req.ip,
          latencyMs: Math.round(reply.elapsedTime * 10) / 10,
          ...(req.problemCode ? { code: req.problemCode } : {}),
          ...(req.ownerUnitId && req.ownerUnitId !== p?.unitId ? { ownerUnitId: req.ownerUnitId } : {}),
        },
      });
      trail.publish(event).catch((err: unknown) => {
        failed.inc();
        req.log.error({ err, requestId: req.id }, 'a call could not be put on the record');
      });
    }
    done();
  });
}
