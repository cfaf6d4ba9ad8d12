import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { UnauthorizedError } from './errors.js';

/** Header carrying the shared service token between gateway and services. */
export const SERVICE_TOKEN_HEADER = 'x-taidon-service-token';
/** Headers in which the gateway passes the verified caller to services. */
export const ACCOUNT_HEADER = 'x-taidon-account';
export const ROLE_HEADER = 'x-taidon-role';

const OPEN_PATHS = ['/health/live', '/health/ready', '/metrics'];

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Services trust only the gateway and each other, never the browser: every
 * route except health, metrics and `openPaths` requires the shared service
 * token, and only then are the caller headers set by the gateway believed.
 */
export function requireServiceToken(app: FastifyInstance, token: string, openPaths: readonly string[] = []): void {
  const open = new Set([...OPEN_PATHS, ...openPaths]);
  app.addHook('onRequest', async (request) => {
    if (open.has(request.routeOptions.url ?? '')) return;
    const given = request.headers[SERVICE_TOKEN_HEADER];
    if (typeof given !== 'string' || !same(given, token)) {
      throw new UnauthorizedError('UNAUTHORIZED', 'This service answers only the gateway and other services.');
    }
  });
}
