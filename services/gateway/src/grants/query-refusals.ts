import type { FastifyReply, FastifyRequest } from 'fastify';
import { actorOf } from '@gdx/auth';
import { createEvent } from '@gdx/contracts';
import { ServiceUnavailableError, ValidationError, type AppError } from '@gdx/errors';
import type { App } from '@gdx/service-kit';
import type { CachedGrant } from './grant-cache';
import { markRecorded } from '../proxy/call-record';

/**
 * Puts a refused interface query on the audit record, then throws `error` (the
 * caller's answer). When the record cannot be written the call fails closed with
 * 503 AUDIT_UNAVAILABLE instead: no answer leaves unrecorded. `grant`: the
 * caller's grant the decision looked at, when there was one.
 */
export type Refuse = (req: FastifyRequest, reply: FastifyReply, error: AppError, grant?: CachedGrant) => Promise<never>;

/** `providerOf`: the provider unit of a resource code, when known without a grant (the catalogue's resource events). */
export function queryRefusals(app: App, providerOf: (code: string) => string | undefined = () => undefined): Refuse {
  // Refusals are the hot path under an enumeration attempt: the outbox writer takes them in batches.
  const trail = app.outboxWriter;
  return async (req, reply, error, grant) => {
    const p = req.principal;
    const code = (req.params as { code: string }).code;
    const body = req.body as { items?: unknown } | undefined;
    // The provider sees refusals on its resource too, with or without a grant of the caller.
    const providerUnitId = grant?.providerUnitId ?? providerOf(code);
    try {
      await trail.publish(
        createEvent('query.denied', {
          actor: actorOf(p),
          subject: code,
          traceparent: req.headers.traceparent as string | undefined,
          data: {
            unitId: p.unitId,
            ...(p.kind === 'account' ? { accountId: p.subject } : { clientId: p.subject }),
            grantId: grant?.id ?? null,
            ...(providerUnitId ? { providerUnitId } : {}),
            resourceCode: code,
            mode: 'interface',
            // What was asked for, as far as it reads as items: a malformed query is on the record too.
            items: Array.isArray(body?.items) ? body.items.filter((i): i is string => typeof i === 'string') : [],
            rowCount: 0,
            result: 'denied',
            reason: error.code,
            status: error.status,
            latencyMs: Math.round(reply.elapsedTime * 10) / 10,
            requestId: String(req.id),
            sourceAddress: req.ip,
            via: 'gateway',
          },
        }),
      );
    } catch {
      throw new ServiceUnavailableError('The call could not be recorded, so it was not answered.', 'AUDIT_UNAVAILABLE');
    }
    markRecorded(req);
    throw error;
  };
}

/** A query the body schema refused, as a problem naming the first offending field (`body.limit`, `body.where`). */
export function invalidQuery(error: NonNullable<FastifyRequest['validationError']>): ValidationError {
  const v = (error.validation as unknown[] | undefined)?.[0] as { instancePath?: string; params?: { missingProperty?: string; additionalProperty?: string } } | undefined;
  const path = [v?.instancePath?.replace(/^\//, '').replace(/\//g, '.'), v?.params?.missingProperty ?? v?.params?.additionalProperty].filter(Boolean).join('.');
  const context = error.validationContext ?? 'body';
  // NUL or a lone surrogate (service-kit's text guard) keeps its own code.
  return new ValidationError(error.message, { field: path ? `${context}.${path}` : context }, (error as { code?: string }).code === 'INVALID_TEXT' ? 'INVALID_TEXT' : 'VALIDATION_FAILED');
}
