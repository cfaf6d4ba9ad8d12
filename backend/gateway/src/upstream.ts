import {
  ACCOUNT_HEADER,
  type HttpResponse,
  ROLE_HEADER,
  SERVICE_TOKEN_HEADER,
  sendRequest,
  UnavailableError,
} from '@taidon/kit';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** Code of a 503 answered when a service does not respond. */
export const UPSTREAM_UNAVAILABLE = 'GATEWAY_UPSTREAM_UNAVAILABLE';

/** How the gateway reaches one service. */
export interface Upstream {
  baseUrl: string;
  serviceToken: string;
  timeoutMs: number;
}

/**
 * Calls `path` on a service as the gateway: service token, request id and the
 * verified caller in headers. The service's status, content type and body
 * (problem+json included) are passed back unchanged.
 */
export async function forward(
  upstream: Upstream,
  request: FastifyRequest,
  reply: FastifyReply,
  path: string,
  body?: unknown,
): Promise<FastifyReply> {
  const headers: Record<string, string> = {
    [SERVICE_TOKEN_HEADER]: upstream.serviceToken,
    'x-request-id': request.id,
    accept: 'application/json',
  };
  const user = request.user as { sub?: string; role?: string } | undefined;
  if (user?.sub) headers[ACCOUNT_HEADER] = user.sub;
  if (user?.role) headers[ROLE_HEADER] = user.role;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let response: HttpResponse;
  try {
    response = await sendRequest(new URL(path, upstream.baseUrl), {
      method: request.method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      timeoutMs: upstream.timeoutMs,
    });
  } catch (error) {
    throw new UnavailableError(UPSTREAM_UNAVAILABLE, 'A service behind the gateway did not answer.', error);
  }
  const type = response.headers['content-type'];
  if (type) reply.type(type);
  const cacheControl = response.headers['cache-control'];
  if (cacheControl) reply.header('cache-control', cacheControl);
  return reply.code(response.status).send(response.text);
}

/** Readiness check of a service: its own `/health/ready` answers 200. */
export function upstreamReady(upstream: Upstream): () => Promise<void> {
  return async () => {
    const response = await fetch(new URL('/health/ready', upstream.baseUrl), { signal: AbortSignal.timeout(2_000) });
    if (!response.ok) throw new Error(`answered ${response.status}`);
  };
}
