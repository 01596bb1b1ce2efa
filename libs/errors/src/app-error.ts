/**
 * Typed errors with stable codes. Integrators branch on `code`, never on `title`
 * or `detail`, so a code once published is never renamed.
 */
export interface ProblemExtras {
  /** JSON pointer-ish path of the offending input field, e.g. `body.items[2].key`. */
  field?: string;
  /** Further machine-readable members placed on the problem document. */
  [key: string]: unknown;
}

export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly title: string,
    readonly detail?: string,
    readonly extras: ProblemExtras = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(detail ?? title);
    this.name = new.target.name;
  }
}

export class BadRequestError extends AppError {
  constructor(code: string, detail: string, extras?: ProblemExtras) {
    super(400, code, 'Bad request', detail, extras);
  }
}

export class ValidationError extends AppError {
  constructor(detail: string, extras?: ProblemExtras, code = 'VALIDATION_FAILED') {
    super(400, code, 'Validation failed', detail, extras);
  }
}

export class UnauthorizedError extends AppError {
  constructor(detail = 'A valid bearer token is required.', code = 'UNAUTHENTICATED') {
    super(401, code, 'Unauthorized', detail, {}, { 'www-authenticate': 'Bearer realm="gdx"' });
  }
}

export class ForbiddenError extends AppError {
  constructor(detail = 'You may not perform this action.', code = 'FORBIDDEN', extras?: ProblemExtras) {
    super(403, code, 'Forbidden', detail, extras);
  }
}

/** Also used where an object exists but the caller may not know that it does. */
export class NotFoundError extends AppError {
  constructor(what = 'The requested object', code = 'NOT_FOUND') {
    super(404, code, 'Not found', `${what} does not exist.`);
  }
}

export class ConflictError extends AppError {
  constructor(code: string, detail: string, extras?: ProblemExtras) {
    super(409, code, 'Conflict', detail, extras);
  }
}

export class TooManyRequestsError extends AppError {
  constructor(detail: string, retryAfterSeconds: number, headers: Record<string, string> = {}, code = 'RATE_LIMITED') {
    super(429, code, 'Too many requests', detail, {}, { 'retry-after': String(retryAfterSeconds), ...headers });
  }
}

export class ServiceUnavailableError extends AppError {
  constructor(detail = 'The service is temporarily unavailable.', code = 'UNAVAILABLE') {
    super(503, code, 'Service unavailable', detail);
  }
}

/** What an unexpected failure answers: nothing about its cause (the log line has that). */
export class InternalError extends AppError {
  constructor() {
    super(500, 'INTERNAL', 'Internal server error', 'The request could not be completed. Quote the request id when reporting this.');
  }
}
