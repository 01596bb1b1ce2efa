import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, InternalError } from './app-error';
import { PROBLEM_CONTENT_TYPE, problemType, type Problem } from './problem';

interface ValidationItem {
  instancePath?: string;
  message?: string;
  params?: Record<string, unknown>;
}

function fieldOf(context: string | undefined, item: ValidationItem): string {
  let path = (item.instancePath ?? '').replace(/^\//, '').replace(/\//g, '.');
  const missing = item.params?.missingProperty ?? item.params?.additionalProperty;
  if (typeof missing === 'string') path = path ? `${path}.${missing}` : missing;
  return [context, path].filter(Boolean).join('.');
}

export function sendProblem(reply: FastifyReply, problem: Omit<Problem, 'type' | 'requestId' | 'instance'> & Record<string, unknown>, headers: Record<string, string> = {}): FastifyReply {
  const body: Problem = {
    type: problemType(problem.code),
    ...problem,
    instance: reply.request.url.split('?')[0],
    requestId: String(reply.request.id),
  };
  return reply.code(problem.status).headers(headers).type(PROBLEM_CONTENT_TYPE).send(body);
}

/**
 * The problem document of an AppError answered outside a reply of its own (a call
 * carried in a batch): the same members the error handler would send.
 */
export function problemOf(error: AppError, instance: string, requestId: string): Problem {
  return { type: problemType(error.code), status: error.status, code: error.code, title: error.title, detail: error.detail, ...error.extras, instance, requestId };
}

/**
 * The one error path of a service: typed AppErrors keep their code, fastify's own
 * 4xx errors get a stable code of ours, and anything else is a 500 that reveals
 * nothing but the request id (the log line has the rest).
 */
export function registerErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | AppError, request: FastifyRequest, reply: FastifyReply) => {
    if (error instanceof AppError) {
      if (error.status >= 500) request.log.warn({ err: error }, 'request failed');
      return sendProblem(reply, { status: error.status, code: error.code, title: error.title, detail: error.detail, ...error.extras }, error.headers);
    }
    const fe = error;
    if (fe.validation) {
      const errors = fe.validation.map((v) => ({ field: fieldOf(fe.validationContext, v as ValidationItem), message: v.message ?? 'is invalid' }));
      return sendProblem(reply, {
        status: 400,
        code: 'VALIDATION_FAILED',
        title: 'Validation failed',
        detail: errors.map((e) => `${e.field}: ${e.message}`).join('; '),
        field: errors[0]?.field,
        errors,
      });
    }
    const status = fe.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      return sendProblem(reply, { status, code: fastifyCode(fe), title: titleFor(status), detail: safeDetail(fe) });
    }
    request.log.error({ err: error }, 'unhandled error');
    const internal = new InternalError();
    return sendProblem(reply, { status: internal.status, code: internal.code, title: internal.title, detail: internal.detail });
  });

  app.setNotFoundHandler((request, reply) => sendProblem(reply, { status: 404, code: 'ROUTE_NOT_FOUND', title: 'Not found', detail: `No route ${request.method} ${request.url.split('?')[0]}.` }));
}

const FASTIFY_CODES: Record<string, string> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'BODY_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'EMPTY_BODY',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'BAD_CONTENT_LENGTH',
};

function fastifyCode(error: FastifyError): string {
  if (error.code && FASTIFY_CODES[error.code]) return FASTIFY_CODES[error.code];
  if (error instanceof SyntaxError || error.code === 'FST_ERR_CTP_INVALID_JSON_BODY') return 'MALFORMED_BODY';
  if (error.statusCode === 429) return 'RATE_LIMITED';
  return 'BAD_REQUEST';
}

function safeDetail(error: FastifyError): string {
  if (error instanceof SyntaxError) return 'The body is not valid JSON.';
  return error.message;
}

function titleFor(status: number): string {
  return (
    (
      {
        400: 'Bad request',
        401: 'Unauthorized',
        403: 'Forbidden',
        404: 'Not found',
        405: 'Method not allowed',
        409: 'Conflict',
        413: 'Payload too large',
        415: 'Unsupported media type',
        429: 'Too many requests',
      } as Record<number, string>
    )[status] ?? 'Client error'
  );
}
