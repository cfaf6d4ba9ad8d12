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

/** One code of a service's error catalogue: the status it answers with and one line for its caller. */
export interface ErrorSpec {
  readonly status: number;
  readonly meaning: string;
}

/**
 * A service's error codes, each with its status and meaning: the one list
 * its error classes, its README's errors table and its README test read.
 * Declare it `{ ... } as const satisfies ErrorCatalogue` so each code stays a
 * literal the service's error class is typed on.
 */
export type ErrorCatalogue = Readonly<Record<string, ErrorSpec>>;

/** Options of a catalogue error: the problem+json extensions and the cause kept for the log line. */
export interface CatalogueErrorOptions {
  details?: Record<string, unknown>;
  cause?: unknown;
}

/**
 * The DomainError class of one service: its constructor takes only the codes
 * of `catalogue` (another code is a type error) and reads the status from the
 * catalogue, so a code's status is written once. Each service's errors.ts
 * derives its error classes from it.
 */
export function catalogueErrorClass<const C extends ErrorCatalogue>(catalogue: C) {
  return class CatalogueError extends DomainError {
    declare readonly code: keyof C & string;
    constructor(code: keyof C & string, message: string, options: CatalogueErrorOptions = {}) {
      const spec = catalogue[code];
      if (!spec) throw new TypeError(`${code} is not in the error catalogue`);
      super(code, message, { statusCode: spec.status, ...options });
    }
  };
}
