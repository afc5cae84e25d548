// The one error hierarchy of the gateway. Every failure a caller can see is one of these; the HTTP
// layer (src/http/error-handler.ts) maps them to status codes and never shows anything else.

export abstract class AppError extends Error {
  abstract readonly status: number;
  /** Seconds after which a retry may succeed; sent as Retry-After. */
  readonly retryAfterSeconds: number | undefined = undefined;
  /** The driver's or PostgreSQL's code behind it (for logs only, never answered). */
  causeCode: string | undefined = undefined;
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** The request is malformed; `field` names the header, parameter or body field at fault. */
export class BadRequest extends AppError {
  readonly status = 400;
  constructor(
    code: string,
    message: string,
    readonly field?: string,
  ) {
    super(code, message);
  }
}

export class Unauthorized extends AppError {
  readonly status = 401;
}

export class Forbidden extends AppError {
  readonly status = 403;
}

export class NotFound extends AppError {
  readonly status = 404;
}

/** The path exists but not for this method; `allow` is sent as the Allow header. */
export class MethodNotAllowed extends AppError {
  readonly status = 405;
  constructor(
    readonly allow: readonly string[],
    path: string,
    method: string,
  ) {
    super('method_not_allowed', `${method} is not allowed on ${path}; allowed: ${allow.join(', ')}`);
  }
}

export class Conflict extends AppError {
  readonly status = 409;
}

/** The request is well-formed but cannot be applied as sent (an idempotency key reused with another body). */
export class UnprocessableEntity extends AppError {
  readonly status = 422;
}

export class PayloadTooLarge extends AppError {
  readonly status = 413;
}

export class UnsupportedMediaType extends AppError {
  readonly status = 415;
}

export class TooManyRequests extends AppError {
  readonly status = 429;
  override readonly retryAfterSeconds: number;
  constructor(code: string, message: string, retryAfterSeconds: number) {
    super(code, message);
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/**
 * The client went away before its request arrived whole (nginx's 499). Its own outcome: neither a
 * database fault nor a server error, so it moves no 503 counter and raises no warning.
 */
export class ClientClosedRequest extends AppError {
  readonly status = 499;
}

/** A dependency (PostgreSQL, the pool budget) cannot serve now; the caller should retry later. */
export class Unavailable extends AppError {
  readonly status = 503;
  override readonly retryAfterSeconds: number;
  constructor(code: string, message: string, retryAfterSeconds = 1) {
    super(code, message);
    this.retryAfterSeconds = retryAfterSeconds;
  }
}
