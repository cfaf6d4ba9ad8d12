import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { DomainError, UnavailableError } from './errors.js';
import { type HttpResponse, sendRequest } from './http-client.js';
import { SERVICE_TOKEN_HEADER } from './service-auth.js';

/** How one service reaches another. */
export interface ServiceEndpoint {
  /** Name used in error messages, e.g. "env-manager". */
  name: string;
  baseUrl: string;
  serviceToken: string;
  /** Deadline of one call, in milliseconds. */
  timeoutMs: number;
}

/** The request a piece of work serves, as far as its awaits reach: the id every hop it makes carries. */
const hop = new AsyncLocalStorage<{ requestId: string }>();

/**
 * Runs each request's handler, and all it awaits, with the request's id at
 * hand, so callService passes `x-request-id` on from domain code that never
 * sees the request (a create that clones a layer through snapshot-cache).
 * createBaseApp registers it on every app.
 */
export function registerHopContext(app: FastifyInstance): void {
  // preHandler, not onRequest: the body is read by then, and a handler called from the body's
  // 'end' event would leave an onRequest context behind.
  app.addHook('preHandler', (request, _reply, done) => hop.run({ requestId: request.id }, done));
}

/**
 * Runs `work` as background work of its own: work that a request merely
 * triggers (a warm-pool refill after a take, a batch flushed later) or that
 * a loop does must not carry a request's id on its hops, nor keep it alive;
 * it gets a new id, `<name>-<uuid>`, that its hops carry, so the log lines
 * one pass causes in every service can be found together.
 */
export function detached<T>(work: () => T, name = 'background'): T {
  return hop.run({ requestId: `${name}-${randomUUID()}` }, work);
}

/** The id of the request (or of the background pass, see detached) the current work serves; undefined outside both. */
export function currentRequestId(): string | undefined {
  return hop.getStore()?.requestId;
}

/** One call's options. */
export interface ServiceCallOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  body?: unknown;
  /**
   * Propagated as x-request-id so every log line of the call chain shares it;
   * defaults to the id of the request being served (see registerHopContext).
   */
  requestId?: string;
  /** Extra headers, e.g. the caller's account. */
  headers?: Record<string, string>;
}

/**
 * Calls another Taidon service with the service token, the request id and
 * the endpoint's deadline, and returns its answer whatever the status, read
 * whole: for a caller that passes the answer on as it came (the gateway's
 * sign-in routes). No answer at all is UNAVAILABLE (503).
 */
export async function callServiceRaw(
  endpoint: ServiceEndpoint,
  path: string,
  options: ServiceCallOptions = {},
): Promise<HttpResponse> {
  const headers: Record<string, string> = { [SERVICE_TOKEN_HEADER]: endpoint.serviceToken, ...options.headers };
  const requestId = options.requestId ?? currentRequestId();
  if (requestId) headers['x-request-id'] = requestId;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  try {
    return await sendRequest(new URL(path, endpoint.baseUrl), {
      method: options.method ?? (options.body === undefined ? 'GET' : 'POST'),
      headers,
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
      timeoutMs: endpoint.timeoutMs,
    });
  } catch (error) {
    throw new UnavailableError('UNAVAILABLE', `${endpoint.name} did not answer`, error);
  }
}

/**
 * Calls another Taidon service with the service token and parses its JSON
 * answer. A problem+json answer is rebuilt as a DomainError with the same
 * code, status and extensions, so errors keep their meaning across hops;
 * no answer at all becomes `<SERVICE>_UNAVAILABLE`-style UNAVAILABLE (503).
 * Every call carries `x-request-id` and ends at the endpoint's deadline
 * (`timeoutMs`, headers and body).
 */
export async function callService<T>(
  endpoint: ServiceEndpoint,
  path: string,
  options: ServiceCallOptions = {},
): Promise<T> {
  const response = await callServiceRaw(endpoint, path, options);
  const text = response.text;
  if (response.status < 200 || response.status > 299) {
    let problem: Record<string, unknown> = {};
    try {
      problem = JSON.parse(text) as Record<string, unknown>;
    } catch {
      // not problem+json: keep the status
    }
    const {
      code,
      detail,
      type: _type,
      title: _title,
      status: _status,
      instance: _instance,
      requestId: _r,
      ...extensions
    } = problem;
    throw new DomainError(
      typeof code === 'string' ? code : 'UNAVAILABLE',
      typeof detail === 'string' ? detail : `${endpoint.name} answered ${response.status}`,
      { statusCode: response.status, details: extensions },
    );
  }
  return (text ? JSON.parse(text) : undefined) as T;
}
