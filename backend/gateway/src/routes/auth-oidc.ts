import { type IdpApi, Problem } from '@taidon/contracts';
import { DomainError } from '@taidon/kit';
import type { FastifyInstance } from 'fastify';
import { GatewayError, OIDC_STATE_MISMATCH, UPSTREAM_UNAVAILABLE } from '../errors.js';
import type { Upstream } from '../upstream.js';
import { callIdp, type IdpAnswer, passError, refreshCookie, setRefreshCookie } from './idp-calls.js';

/** Code of a callback whose `state` differs from the one this browser started with (login CSRF). */

/**
 * Binds an OIDC login to the browser that started it. Lax, not Strict: the
 * provider's redirect back is a cross-site navigation, which Strict cookies skip.
 */
const STATE_COOKIE = 'taidon_oidc_state';
const STATE_COOKIE_OPTIONS = { httpOnly: true, secure: true, sameSite: 'lax', path: '/api/auth/oidc' } as const;

/** `GET /api/auth/oidc/start` and its callback: browser navigations, answered with redirects. */
export function registerOidcRoutes(app: FastifyInstance, idp: Upstream): void {
  app.get<{ Querystring: { upgrade?: string } }>(
    '/api/auth/oidc/start',
    {
      config: { public: true },
      schema: {
        summary:
          'Redirects to the OpenID Connect provider; `upgrade=true` upgrades the anonymous account of the session.',
        tags: ['auth'],
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { upgrade: { type: 'string', enum: ['true', 'false'] } },
        },
        response: {
          302: { type: 'null', description: "To the provider's authorization page." },
          401: Problem,
          404: Problem,
          503: Problem,
        },
      },
    },
    async (request, reply) => {
      const upgrade = request.query.upgrade === 'true';
      const body = upgrade ? { upgradeRefreshToken: refreshCookie(request) } : {};
      const start = oidcStartOf(await callIdp(idp, request, '/auth/oidc/start', body));
      reply.setCookie(STATE_COOKIE, start.state, { ...STATE_COOKIE_OPTIONS, maxAge: 600 });
      return reply.header('cache-control', 'no-store').redirect(start.authorizationUrl, 302);
    },
  );
  app.get(
    '/api/auth/oidc/callback',
    {
      config: { public: true },
      // The query carries the authorization code: keep the request line out of info logs.
      logLevel: 'warn',
      schema: {
        summary: 'Where the provider sends the browser back: sets the refresh cookie and redirects to `/`.',
        tags: ['auth'],
        response: {
          302: { type: 'null', description: 'Signed in: to `/`, with the refresh cookie set.' },
          400: Problem,
          409: Problem,
          503: Problem,
        },
      },
    },
    async (request, reply) => {
      const query = request.url.split('?')[1] ?? '';
      const expected = request.cookies[STATE_COOKIE];
      reply.clearCookie(STATE_COOKIE, STATE_COOKIE_OPTIONS);
      if (!expected || new URLSearchParams(query).get('state') !== expected) {
        throw new GatewayError(OIDC_STATE_MISMATCH, 'This sign-in was not started in this browser; start again.');
      }
      const answer = await callIdp(idp, request, '/auth/oidc/callback', { query });
      if (answer.status !== 200) return passError(reply, answer);
      setRefreshCookie(reply, JSON.parse(answer.text) as IdpApi.SessionTokens);
      return reply.header('cache-control', 'no-store').redirect('/', 302);
    },
  );
}

/** The OIDC start answer of idp, or its error rebuilt. */
function oidcStartOf(answer: IdpAnswer): IdpApi.OidcStartResponse {
  if (answer.status === 200) return JSON.parse(answer.text) as IdpApi.OidcStartResponse;
  let problem: { code?: string; detail?: string } = {};
  try {
    problem = JSON.parse(answer.text) as typeof problem;
  } catch {
    // not problem+json: keep the status
  }
  throw new DomainError(problem.code ?? UPSTREAM_UNAVAILABLE, problem.detail ?? 'idp refused', {
    statusCode: answer.status,
  });
}
