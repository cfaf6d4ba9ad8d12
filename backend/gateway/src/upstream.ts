import type { IncomingMessage } from 'node:http';
import {
  ACCOUNT_HEADER,
  type HttpResponse,
  PROBLEM_CONTENT_TYPE,
  ROLE_HEADER,
  SERVICE_TOKEN_HEADER,
  sendRequest,
} from '@taidon/kit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { upstreamUnavailable } from './errors.js';

/** Code of a 503 answered when a service does not respond. */

/** How the gateway reaches one service. */
export interface Upstream {
  baseUrl: string;
  serviceToken: string;
  timeoutMs: number;
}

/** What a forward sends besides a JSON body: request headers passed on, or a text body instead of JSON. */
export interface ForwardOptions {
  /** Headers of the browser's request the service needs (`if-match`), already checked by the route schema. */
  headers?: Record<string, string>;
  /** Sent as `text/plain` (a project file's text) instead of the JSON `body`. */
  text?: string;
}

/**
 * Calls `path` on a service as the gateway: service token, request id and the
 * verified caller in headers. The service's status, content type, body
 * (problem+json included), Retry-After and ETag are passed back unchanged.
 */
export async function forward(
  upstream: Upstream,
  request: FastifyRequest,
  reply: FastifyReply,
  path: string,
  body?: unknown,
  options: ForwardOptions = {},
): Promise<FastifyReply> {
  const headers: Record<string, string> = {
    ...options.headers,
    [SERVICE_TOKEN_HEADER]: upstream.serviceToken,
    'x-request-id': request.id,
    accept: 'application/json',
  };
  const user = request.user as { sub?: string; role?: string } | undefined;
  if (user?.sub) headers[ACCOUNT_HEADER] = user.sub;
  if (user?.role) headers[ROLE_HEADER] = user.role;
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (options.text !== undefined) headers['content-type'] = 'text/plain; charset=utf-8';
  let response: HttpResponse;
  try {
    response = await sendRequest(new URL(path, upstream.baseUrl), {
      method: request.method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      ...(options.text === undefined ? {} : { body: options.text }),
      timeoutMs: upstream.timeoutMs,
    });
  } catch (error) {
    throw upstreamUnavailable('A service behind the gateway did not answer.', error);
  }
  const type = response.headers['content-type'];
  if (type) reply.type(type);
  const cacheControl = response.headers['cache-control'];
  if (cacheControl) reply.header('cache-control', cacheControl);
  // A service's 429 or 503 says when to come back (the planner's queue, a quota): the browser needs it too.
  const retryAfter = response.headers['retry-after'];
  if (retryAfter) reply.header('retry-after', retryAfter);
  // A project file's version, which the browser sends back in If-Match.
  const etag = response.headers.etag;
  if (etag) reply.header('etag', etag);
  return reply.code(response.status).send(response.text);
}

/**
 * Problem bodies passed through from a service name the service's own path
 * (`/plan`, `/runs/…/cancel`) in `instance`; the browser only knows the
 * gateway's. Every problem+json answer of the gateway therefore names the
 * path the browser asked for, whoever wrote it. Its other members pass
 * through unchanged.
 */
export function registerPublicProblemPaths(app: FastifyInstance): void {
  app.addHook('onSend', async (request, reply, payload) => {
    if (typeof payload !== 'string' || reply.statusCode < 400) return payload;
    if (!String(reply.getHeader('content-type') ?? '').startsWith(PROBLEM_CONTENT_TYPE)) return payload;
    let body: unknown;
    try {
      body = JSON.parse(payload);
    } catch {
      // Not JSON after all: passed on as it came.
      return payload;
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return payload;
    return JSON.stringify({ ...body, instance: request.url });
  });
}

/** Largest problem body of a service read whole to be passed on; a larger one is no problem body and is cut off. */
const MAX_PASSED_PROBLEM_BYTES = 64 * 1024;

/** Reads a service's problem+json answer (given instead of a stream) so its `instance` can be made public. */
export async function readProblem(response: IncomingMessage): Promise<string> {
  let text = '';
  response.setEncoding('utf8');
  try {
    for await (const chunk of response) {
      text += chunk as string;
      if (text.length > MAX_PASSED_PROBLEM_BYTES) throw new Error('oversized problem body');
    }
  } catch (error) {
    response.destroy();
    throw upstreamUnavailable('A service behind the gateway broke off its answer.', error);
  }
  return text;
}

/** Readiness check of a service: its own `/health/ready` answers 200. */
export function upstreamReady(upstream: Upstream): () => Promise<void> {
  return async () => {
    const response = await fetch(new URL('/health/ready', upstream.baseUrl), { signal: AbortSignal.timeout(2_000) });
    if (!response.ok) throw new Error(`answered ${response.status}`);
  };
}
