import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DomainError, type ErrorCatalogue } from './errors.js';

/** Media type of every error answer (RFC 9457). */
export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** The body of every error answer. `type` is a URN built from the stable code. */
export interface ProblemBody {
  type: string;
  code: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  requestId?: string;
  [extension: string]: unknown;
}

/**
 * Codes the kit itself answers with, with their status; each service's
 * catalogue spreads them beside its own and its README lists them.
 */
export const KIT_ERROR_CATALOGUE = {
  VALIDATION_FAILED: {
    status: 400,
    meaning: 'The request did not match the route schema; `errors` lists each violation.',
  },
  NOT_FOUND: { status: 404, meaning: 'No route matches the method and path.' },
  UNAUTHORIZED: { status: 401, meaning: 'The request carries no valid access token or service token.' },
  PAYLOAD_TOO_LARGE: { status: 413, meaning: 'The request body is larger than the route accepts.' },
  BAD_REQUEST: {
    status: 400,
    meaning:
      'The request could not be read: not HTTP/1.1, a body shorter or longer than its Content-Length, a client that went away.',
  },
  INVALID_JSON: { status: 400, meaning: 'The body is empty or not valid JSON although its content type says JSON.' },
  FORBIDDEN_JSON_KEY: {
    status: 400,
    meaning:
      'The JSON body has a `__proto__` key, or a `constructor` key holding `prototype` (prototype poisoning); no route takes such keys.',
  },
  UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    meaning: 'The body is of a content type the route does not read (send `application/json`).',
  },
  HEADERS_TOO_LARGE: { status: 431, meaning: "The request's headers are larger than the 16 KiB the server reads." },
  REQUEST_TIMEOUT: {
    status: 408,
    meaning:
      "The request's headers, or the whole request with its body, did not arrive within the server's timeouts; the connection is closed.",
  },
  INTERNAL: {
    status: 500,
    meaning: 'An unexpected failure; the body never carries its details, the log line with the same requestId does.',
  },
  UNAVAILABLE: { status: 503, meaning: 'A dependency (database, another service) is not answering.' },
} as const satisfies ErrorCatalogue;

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  408: 'Request Timeout',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** Builds a problem body for `code`; extensions go beside the standard members. */
export function problem(
  status: number,
  code: string,
  detail: string,
  extensions: Record<string, unknown> = {},
): ProblemBody {
  return {
    ...extensions,
    type: `urn:taidon:problem:${code}`,
    code,
    title: TITLES[status] ?? 'Error',
    status,
    detail,
  };
}

/**
 * A whole HTTP/1.1 problem+json answer, for refusals made on a bare socket
 * before fastify has a request (over-cap connections, Node's parse errors and
 * timeouts). It closes the connection: what follows on the socket is unknown.
 */
export function rawProblemResponse(body: ProblemBody, headers: Record<string, string> = {}): string {
  const json = JSON.stringify(body);
  const lines = [
    `HTTP/1.1 ${body.status} ${body.title}`,
    `content-type: ${PROBLEM_CONTENT_TYPE}`,
    `content-length: ${Buffer.byteLength(json)}`,
    'cache-control: no-store',
    'connection: close',
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
  ];
  return `${lines.join('\r\n')}\r\n\r\n${json}`;
}

function send(request: FastifyRequest, reply: FastifyReply, body: ProblemBody): FastifyReply {
  return reply
    .code(body.status)
    .type(PROBLEM_CONTENT_TYPE)
    .send({ ...body, instance: request.url, requestId: request.id });
}

/** fastify's own refusals, by their error code (never their message), as our codes and details. */
const FASTIFY_REFUSALS: Record<string, { code: keyof typeof KIT_ERROR_CATALOGUE; detail?: string }> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    code: 'UNSUPPORTED_MEDIA_TYPE',
    detail: 'The body is of a content type this route does not read; send application/json.',
  },
  FST_ERR_CTP_BODY_TOO_LARGE: { code: 'PAYLOAD_TOO_LARGE' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { code: 'INVALID_JSON', detail: 'The body is empty but its content type says JSON.' },
  FST_ERR_CTP_INVALID_JSON_BODY: { code: 'INVALID_JSON', detail: 'The body is not valid JSON.' },
};

function fastifyRefusal(error: FastifyError): { code: string; detail: string } {
  if (error.validation) return { code: 'VALIDATION_FAILED', detail: error.message };
  const known = FASTIFY_REFUSALS[error.code];
  if (known) return { code: known.code, detail: known.detail ?? error.message };
  if (error.statusCode === 413) return { code: 'PAYLOAD_TOO_LARGE', detail: error.message };
  if (error.statusCode === 415) return { code: 'UNSUPPORTED_MEDIA_TYPE', detail: error.message };
  if (error.statusCode === 401) return { code: 'UNAUTHORIZED', detail: error.message };
  return { code: 'BAD_REQUEST', detail: error.message };
}

/** pg-pool's error when no connection became free within `connectionTimeoutMillis` (it carries no code). */
function isPoolExhausted(error: Error): boolean {
  return error.message === 'timeout exceeded when trying to connect';
}

/**
 * The one place where errors become HTTP answers: DomainErrors by their code
 * and status, fastify's own 4xx errors by their kind, a database connection
 * pool that stayed full as a 503 with Retry-After, anything else as a 500
 * whose body says nothing about the cause (the log line does).
 */
export function registerProblemHandler(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | DomainError | Error, request, reply) => {
    if (error instanceof DomainError) {
      if (error.statusCode >= 500) request.log.error({ err: error }, 'dependency failure');
      return send(request, reply, problem(error.statusCode, error.code, error.message, { ...error.details }));
    }
    const status = (error as FastifyError).statusCode;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      const fe = error as FastifyError;
      const extensions = fe.validation
        ? { errors: fe.validation.map((v) => ({ path: v.instancePath, message: v.message })) }
        : {};
      const { code, detail } = fastifyRefusal(fe);
      return send(request, reply, problem(status, code, detail, extensions));
    }
    if (isPoolExhausted(error)) {
      // Overload, not a bug: every database connection stayed busy for the pool's whole wait.
      request.log.warn({ err: error }, 'database connection pool exhausted');
      reply.header('retry-after', '1');
      return send(request, reply, problem(503, 'UNAVAILABLE', 'The service is overloaded; try again in a moment.'));
    }
    request.log.error({ err: error }, 'unhandled error');
    return send(request, reply, problem(500, 'INTERNAL', 'An internal error occurred.'));
  });
  app.setNotFoundHandler((request, reply) =>
    send(request, reply, problem(404, 'NOT_FOUND', `No route for ${request.method} ${request.url.split('?')[0]}.`)),
  );
}
