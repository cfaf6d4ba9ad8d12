/**
 * Every business error a service throws is a DomainError: a stable `code`
 * (documented in the service README), the HTTP status it maps to, and the
 * extra members its problem+json body carries. One handler turns it into
 * problem+json (see problem.ts); domain code never builds HTTP replies.
 */
export class DomainError extends Error {
  /** Stable, prefixed code such as `SQL_RUNNER_SYNTAX_ERROR`; clients switch on it. */
  readonly code: string;
  /** HTTP status the problem+json answer carries. */
  readonly statusCode: number;
  /** Extension members added to the problem+json body (RFC 9457 §3.2). */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(
    code: string,
    message: string,
    options: { statusCode?: number; details?: Record<string, unknown>; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.statusCode = options.statusCode ?? 400;
    this.details = Object.freeze({ ...(options.details ?? {}) });
  }
}

/** A request the schema accepted but the domain cannot act on. */
export class UnprocessableError extends DomainError {
  constructor(code: string, message: string, details?: Record<string, unknown>) {
    super(code, message, { statusCode: 422, ...(details ? { details } : {}) });
  }
}

/** A resource that does not exist, or that the caller may not know exists. */
export class NotFoundError extends DomainError {
  constructor(code: string, message: string, details?: Record<string, unknown>) {
    super(code, message, { statusCode: 404, ...(details ? { details } : {}) });
  }
}

/** The caller is not authenticated. */
export class UnauthorizedError extends DomainError {
  constructor(code: string, message: string) {
    super(code, message, { statusCode: 401 });
  }
}

/** A dependency (another service, the database) did not answer as it must. */
export class UnavailableError extends DomainError {
  constructor(code: string, message: string, cause?: unknown) {
    super(code, message, { statusCode: 503, cause });
  }
}
