import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, InternalError } from './app-error';
import { PROBLEM_CODE_HEADER, PROBLEM_CONTENT_TYPE, problemType, type Problem } from './problem';

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
  // Every 503 says when to try again (a dependency or an upstream coming back), unless the thrower knew better.
  if (problem.status === 503 && !Object.keys(headers).some((h) => h.toLowerCase() === 'retry-after')) reply.header('retry-after', String(DEPENDENCY_RETRY_AFTER_S));
  return reply.code(problem.status).headers(headers).header(PROBLEM_CODE_HEADER, problem.code).type(PROBLEM_CONTENT_TYPE).send(body);
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
    const pgCode = postgresDataException(error);
    if (pgCode) {
      request.log.info({ pgCode }, 'database refused a value of the request');
      return sendProblem(reply, { status: 400, code: 'INVALID_VALUE', title: 'Bad request', detail: 'A value in the request is out of range or not valid for its type.' });
    }
    const status = fe.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      return sendProblem(reply, { status, code: fastifyCode(fe), title: titleFor(status), detail: safeDetail(fe) });
    }
    const away = dependencyUnavailable(error);
    if (away) {
      request.log.warn({ err: error, dependency: away }, 'a dependency is unavailable');
      return sendProblem(reply, { status: 503, code: 'DEPENDENCY_UNAVAILABLE', title: 'Service unavailable', detail: 'A service this call needs is briefly unavailable; try again shortly.' });
    }
    request.log.error({ err: error }, 'unhandled error');
    const internal = new InternalError();
    return sendProblem(reply, { status: internal.status, code: internal.code, title: internal.title, detail: internal.detail });
  });

  app.setNotFoundHandler((request, reply) => sendProblem(reply, { status: 404, code: 'ROUTE_NOT_FOUND', title: 'Not found', detail: `No route ${request.method} ${request.url.split('?')[0]}.` }));
}

/**
 * fastify's `frameworkErrors` option: what the router refuses before any route or hook
 * runs (a path parameter over maxParamLength, a malformed URL) comes out as a problem
 * document too, not in fastify's own format.
 */
export function frameworkErrors(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  reply.header('x-request-id', String(request.id));
  const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 400;
  const detail =
    error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 'A path segment is too long.' : error.code === 'FST_ERR_BAD_URL' ? 'The URL is not valid (malformed percent-encoding).' : 'The request is malformed.';
  sendProblem(reply, { status, code: fastifyCode(error), title: titleFor(status), detail });
}

/**
 * PostgreSQL's data exceptions (SQLSTATE class 22: a number out of range, text that is not
 * a valid timestamp or uuid, NUL in text) only arise from a value the request carried past
 * its schema: a 400, not a 500. Duck-typed (TypeORM's QueryFailedError and pg's own error
 * both carry the SQLSTATE in `code`) so this package needs no database driver.
 */
function postgresDataException(error: unknown): string | undefined {
  const e = error as { code?: unknown; driverError?: { code?: unknown } } | null;
  const code = e?.driverError?.code ?? e?.code;
  return typeof code === 'string' && /^22[0-9A-Z]{3}$/.test(code) ? code : undefined;
}

/** What a caller is told to wait when PostgreSQL or Redis is away (reconnects are attempted every few seconds). */
const DEPENDENCY_RETRY_AFTER_S = 5;

/** Node's socket errors, as pg and ioredis pass them on. */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
/** ioredis's own words when its connection is down or a command could not be sent (no offline queue). */
const REDIS_AWAY = /Stream isn't writeable|Connection is closed|Reached the max retries per request|Command timed out|connect ETIMEDOUT|Redis is loading|LOADING /;
/** pg's and its pool's words when the server went away or never answered. */
const POSTGRES_AWAY =
  /Connection terminated|timeout exceeded when trying to connect|the database system is (starting up|shutting down|in recovery mode)|terminating connection due to administrator command/;

/**
 * PostgreSQL or Redis being away is not a fault of the request nor a bug: 503 with Retry-After
 * (never a 500) while they come back. SQLSTATE class 08 (connection exception), 57P01–57P03
 * (shut down, cannot connect now) and 53300 (too many connections) count, as do socket errors
 * and the drivers' messages for a closed connection. Duck-typed: this package needs no driver.
 */
export function dependencyUnavailable(error: unknown): 'postgres' | 'redis' | undefined {
  const e = error as { code?: unknown; name?: unknown; message?: unknown; driverError?: { code?: unknown; message?: unknown } } | null;
  if (!e || typeof e !== 'object') return undefined;
  const code = e.driverError?.code ?? e.code;
  const message = `${typeof e.message === 'string' ? e.message : ''} ${typeof e.driverError?.message === 'string' ? e.driverError.message : ''}`;
  const name = typeof e.name === 'string' ? e.name : '';
  if (name === 'MaxRetriesPerRequestError' || REDIS_AWAY.test(message)) return 'redis';
  if (typeof code === 'string' && (/^08[0-9A-Z]{3}$/.test(code) || ['57P01', '57P02', '57P03', '53300'].includes(code))) return 'postgres';
  if (POSTGRES_AWAY.test(message)) return 'postgres';
  if (typeof code === 'string' && SOCKET_CODES.has(code)) return /redis|:6379/i.test(message) ? 'redis' : 'postgres';
  return undefined;
}

const FASTIFY_CODES: Record<string, string> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'BODY_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'EMPTY_BODY',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'BAD_CONTENT_LENGTH',
  FST_ERR_CTP_INVALID_JSON_BODY: 'MALFORMED_BODY',
  FST_ERR_MAX_PARAM_LENGTH: 'URI_TOO_LONG',
  FST_ERR_BAD_URL: 'MALFORMED_URL',
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
        414: 'URI too long',
        415: 'Unsupported media type',
        429: 'Too many requests',
      } as Record<number, string>
    )[status] ?? 'Client error'
  );
}
