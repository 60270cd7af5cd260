/**
 * Application errors. Every error a user or operator can see says what went wrong and what to do.
 * `code` is stable (clients and tests match on it), `status` is the HTTP status when it reaches a response,
 * `retryable` tells workers whether trying again can help.
 */
export class AppError extends Error {
  readonly code: string;
  readonly status: number;
  readonly retryable: boolean;

  constructor(code: string, message: string, opts: { status?: number; retryable?: boolean; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.code = code;
    this.status = opts.status ?? 500;
    this.retryable = opts.retryable ?? false;
  }
}

/** Configuration is missing or invalid; the message names the variable to set. */
export class ConfigError extends AppError {
  constructor(message: string) {
    super('config-invalid', message, { status: 500 });
  }
}

export class BadRequestError extends AppError {
  constructor(code: string, message: string) {
    super(code, message, { status: 400 });
  }
}

export class UnauthorizedError extends AppError {
  constructor(code: string, message: string) {
    super(code, message, { status: 401 });
  }
}

export class ForbiddenError extends AppError {
  constructor(code: string, message: string) {
    super(code, message, { status: 403 });
  }
}

export class NotFoundError extends AppError {
  constructor(code: string, message: string) {
    super(code, message, { status: 404 });
  }
}

export class TooManyRequestsError extends AppError {
  readonly retryAfterSeconds: number;
  constructor(message: string, retryAfterSeconds: number) {
    super('rate-limited', message, { status: 429, retryable: true });
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/**
 * A Graph API call failed. `metaCode` is Meta's error code when the response carried one.
 * 4xx are not retryable (the request itself is wrong), 5xx and network failures are.
 */
export class GraphApiError extends AppError {
  readonly metaCode: number | undefined;
  readonly httpStatus: number | undefined;
  /** Meta's `error_data.details` (e.g. when a limit frees up), when given. */
  readonly details: string | undefined;
  constructor(
    message: string,
    opts: { httpStatus?: number; metaCode?: number; details?: string; retryable: boolean; cause?: unknown },
  ) {
    super('graph-api-failed', message, { status: 502, retryable: opts.retryable, cause: opts.cause });
    this.metaCode = opts.metaCode;
    this.httpStatus = opts.httpStatus;
    this.details = opts.details;
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
