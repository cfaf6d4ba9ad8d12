import type { IncomingMessage, ServerResponse } from 'node:http';
import cors from '@fastify/cors';
import rateLimit from '@fastify/rate-limit';
import { envInt, envOptional } from '@taidon/kit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import helmet from 'helmet';
import { type EdgeLimitSettings, edgeLimitsConfigSpec } from './edge-limits.js';
import { GatewayError, RATE_LIMITED } from './errors.js';

/** Environment variables of the gateway's protections (part of gatewayConfigSpec). */
export const hardeningConfigSpec = {
  RATE_LIMIT_WINDOW_SECONDS: envInt('Length of one rate-limit window, in seconds.', {
    default: 60,
    min: 1,
    max: 3_600,
  }),
  RATE_LIMIT_ACCOUNT_MAX: envInt(
    'Requests one account (the token `sub`) may send to authenticated `/api/*` routes per window; the 429 carries Retry-After.',
    { default: 600, min: 1, max: 1_000_000 },
  ),
  RATE_LIMIT_IP_MAX: envInt(
    'Requests one client address may send to public `/api/*` routes (sign-in, sign-up) per window. Raise it when many learners share one address (a classroom NAT, a load test).',
    { default: 1_200, min: 1, max: 1_000_000 },
  ),
  BODY_LIMIT_BYTES: envInt('Largest request body the gateway reads, in bytes (runs have their own, larger limit).', {
    default: 1024 * 1024,
    min: 1024,
    max: 64 * 1024 * 1024,
  }),
  CORS_ORIGINS: envOptional(
    'Comma-separated origins allowed to call the API from a browser page of another origin; unset, no CORS headers are sent (same origin only).',
  ),
  ...edgeLimitsConfigSpec,
};

/** Settings registerHardening and the edge limits apply; every field optional, defaults as documented. */
export interface HardeningSettings extends EdgeLimitSettings {
  RATE_LIMIT_WINDOW_SECONDS?: number;
  RATE_LIMIT_ACCOUNT_MAX?: number;
  RATE_LIMIT_IP_MAX?: number;
  CORS_ORIGINS?: string | undefined;
}

const DEFAULTS = { window: 60, account: 600, ip: 1_200 };

/**
 * Content-Security-Policy for the SPA: everything from our own origin, Monaco's
 * workers as same-origin files (blob: kept for bundles that inline them),
 * inline styles because Monaco sets them, nothing from other origins.
 */
const CSP_DIRECTIVES = {
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'"],
  workerSrc: ["'self'", 'blob:'],
  styleSrc: ["'self'", "'unsafe-inline'"],
  imgSrc: ["'self'", 'data:'],
  fontSrc: ["'self'", 'data:'],
  connectSrc: ["'self'"],
  objectSrc: ["'none'"],
  baseUri: ["'self'"],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
};

/**
 * The headers helmet sets with its defaults and CSP_DIRECTIVES, as [name, value] in helmet's order. They
 * depend on nothing in the request (no nonce, no directive computed per request), so they are computed once:
 * @fastify/helmet called helmet(options) on every request, parsing and validating the directives again each
 * time (3–4 % of the gateway's CPU, issue 22).
 */
export function securityHeaders(): Array<[string, string]> {
  const headers = new Map<string, string>();
  const response = {
    setHeader: (name: string, value: string) => headers.set(name, value),
    // X-Powered-By, which helmet removes: fastify never sets it.
    removeHeader: (name: string) => headers.delete(name),
  };
  const middleware = helmet({ contentSecurityPolicy: { useDefaults: false, directives: CSP_DIRECTIVES } });
  middleware({} as IncomingMessage, response as unknown as ServerResponse, (error) => {
    if (error) throw error;
  });
  return [...headers];
}

/** Security headers on every answer, and CORS only for the origins an operator lists. */
export function registerSecurityHeaders(app: FastifyInstance, settings: HardeningSettings): void {
  const headers = securityHeaders();
  // On the raw response in onRequest, as helmet's middleware set them: a route's own header still wins.
  app.addHook('onRequest', (_request, reply, done) => {
    for (const [name, value] of headers) reply.raw.setHeader(name, value);
    done();
  });
  const origins = (settings.CORS_ORIGINS ?? '')
    .split(',')
    .map((o) => o.trim())
    .filter(Boolean);
  if (origins.length > 0) {
    app.register(cors, { origin: origins, credentials: true, exposedHeaders: ['x-request-id', 'retry-after'] });
  }
}

class RateLimitedError extends GatewayError {
  constructor(retryAfterSeconds: number, scope: 'account' | 'address') {
    super(RATE_LIMITED, `Too many requests from this ${scope}; retry in ${retryAfterSeconds} s.`, {
      details: { retryAfterSeconds },
    });
  }
}

/**
 * Rate limits of `/api/*`, registered in the API context after the token
 * check: authenticated routes count per account (the verified `sub`, so
 * learners behind one address do not share a budget), public routes
 * (sign-in, sign-up, the OpenAPI document) count per client address.
 * Counters live in this process (one budget per gateway replica).
 */
export async function registerRateLimits(api: FastifyInstance, settings: HardeningSettings): Promise<void> {
  const timeWindow = (settings.RATE_LIMIT_WINDOW_SECONDS ?? DEFAULTS.window) * 1000;
  await api.register(rateLimit, { global: false, cache: 50_000 });
  const perAccount = api.createRateLimit({
    timeWindow,
    max: settings.RATE_LIMIT_ACCOUNT_MAX ?? DEFAULTS.account,
    keyGenerator: (request) => `account:${(request.user as { sub?: string } | undefined)?.sub ?? ''}`,
  });
  const perAddress = api.createRateLimit({
    timeWindow,
    max: settings.RATE_LIMIT_IP_MAX ?? DEFAULTS.ip,
    keyGenerator: (request) => `ip:${request.ip}`,
  });
  api.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    const isPublic = request.routeOptions.config.public === true;
    const limit = await (isPublic ? perAddress : perAccount)(request);
    if (limit.isAllowed) return;
    reply.header('x-ratelimit-limit', limit.max);
    reply.header('x-ratelimit-remaining', limit.remaining);
    if (!limit.isExceeded) return;
    const retryAfter = Math.max(1, limit.ttlInSeconds);
    reply.header('retry-after', retryAfter);
    throw new RateLimitedError(retryAfter, isPublic ? 'address' : 'account');
  });
}
