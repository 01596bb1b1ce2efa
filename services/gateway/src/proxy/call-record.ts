import type { FastifyReply, FastifyRequest } from 'fastify';
import { Counter } from 'prom-client';
import { actorOf } from '@gdx/auth';
import { createEvent, OWNER_UNIT_HEADER } from '@gdx/contracts';
import { PROBLEM_CODE_HEADER } from '@gdx/errors';
import type { App } from '@gdx/service-kit';

declare module 'fastify' {
  interface FastifyRequest {
    ownerUnitId?: string;
    problemCode?: string;
    /** Set when the call is on the record by its own event (an interface query's, a sign-in's, a token request's). */
    recordedElsewhere?: boolean;
  }
}

/**
 * A route that records its calls by its own events (the interface query, sign-in, tokens) marks each
 * call so recorded; what it answers without one (a body refused before its handler, an upstream
 * that did not answer) is recorded here like any other call: once, either way.
 */
export function markRecorded(req: FastifyRequest): void {
  req.recordedElsewhere = true;
}

function recorded(req: FastifyRequest): boolean {
  return !req.recordedElsewhere && req.url.startsWith('/api/v1/');
}

/**
 * §7: every call through the gateway, allowed or refused, on every /api/v1 route, is
 * on the record once (`call.completed`), visible to the caller's unit and to the unit
 * owning the object. Recorded after the answer left (it cannot be recalled): a record
 * that cannot be written is logged and counted, never silent.
 */
export function callRecords(app: App): void {
  const trail = app.outboxWriter;
  const failed = new Counter({ name: 'gdx_gateway_call_records_failed_total', help: 'Calls answered whose call.completed record could not be written', registers: [app.metrics] });

  app.addHook('onSend', (req: FastifyRequest, reply: FastifyReply, payload: unknown, done: (err: null, payload: unknown) => void) => {
    // Every problem, the gateway's own and an upstream's streamed through, names its code in a header: taken off here, onto the record.
    // Both hints between services are taken off every answer, recorded or not.
    const code = reply.getHeader(PROBLEM_CODE_HEADER);
    if (code !== undefined) reply.removeHeader(PROBLEM_CODE_HEADER);
    const owner = reply.getHeader(OWNER_UNIT_HEADER);
    if (owner !== undefined) reply.removeHeader(OWNER_UNIT_HEADER);
    // Calls on the record by their own events (the interface query, the hot path, among them) are not repeated.
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
