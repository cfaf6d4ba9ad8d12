import fastifyCookie from '@fastify/cookie';
import { AccessTokenResponse, IdpApi, PasswordCredentials, Problem } from '@taidon/contracts';
import { ACCOUNT_HEADER, DomainError, SERVICE_TOKEN_HEADER, UnavailableError } from '@taidon/kit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { UPSTREAM_UNAVAILABLE, type Upstream } from '../upstream.js';
import { registerOidcRoutes } from './auth-oidc.js';

/** Cookie holding the refresh token: httpOnly (no page script reads it), sent only to `/api/auth/*`. */
export const REFRESH_COOKIE = 'taidon_refresh';
const REFRESH_COOKIE_OPTIONS = { httpOnly: true, secure: true, sameSite: 'strict', path: '/api/auth' } as const;

/** An answer of idp, read whole. */
export interface IdpAnswer {
  status: number;
  headers: Headers;
  text: string;
}

/** Calls idp as the gateway: service token, request id, browser address, the verified account if any. */
export async function callIdp(idp: Upstream, request: FastifyRequest, path: string, body: unknown): Promise<IdpAnswer> {
  const headers: Record<string, string> = {
    [SERVICE_TOKEN_HEADER]: idp.serviceToken,
    'x-request-id': request.id,
    [IdpApi.CLIENT_IP_HEADER]: request.ip,
    'content-type': 'application/json',
  };
  const user = request.user as { sub?: string } | undefined;
  if (user?.sub) headers[ACCOUNT_HEADER] = user.sub;
  try {
    const response = await fetch(new URL(path, idp.baseUrl), {
      method: 'POST',
      headers,
      body: JSON.stringify(body ?? {}),
      signal: AbortSignal.timeout(idp.timeoutMs),
    });
    return { status: response.status, headers: response.headers, text: await response.text() };
  } catch (error) {
    throw new UnavailableError(UPSTREAM_UNAVAILABLE, 'A service behind the gateway did not answer.', error);
  }
}

/** Passes an error answer of idp on unchanged (problem+json, Retry-After of the sign-in limit). */
export function passError(reply: FastifyReply, answer: IdpAnswer): FastifyReply {
  const type = answer.headers.get('content-type');
  if (type) reply.type(type);
  const retryAfter = answer.headers.get('retry-after');
  if (retryAfter) reply.header('retry-after', retryAfter);
  return reply.code(answer.status).send(answer.text);
}

/** Moves a session's refresh token into the cookie. */
export function setRefreshCookie(reply: FastifyReply, session: IdpApi.SessionTokens): void {
  reply.setCookie(REFRESH_COOKIE, session.refreshToken, {
    ...REFRESH_COOKIE_OPTIONS,
    maxAge: session.refreshExpiresIn,
  });
}

function clearRefreshCookie(reply: FastifyReply): void {
  reply.clearCookie(REFRESH_COOKIE, REFRESH_COOKIE_OPTIONS);
}

/** Refresh token of the browser, or '' (idp answers IDP_REFRESH_INVALID for it). */
export const refreshCookie = (request: FastifyRequest): string => request.cookies[REFRESH_COOKIE] ?? '';

/**
 * A sign-in answer of idp becomes the browser's: the refresh token goes into
 * the cookie, only `{ accessToken, tokenType, expiresIn }` into the body.
 */
async function answerSession(
  reply: FastifyReply,
  answer: IdpAnswer,
  status: number,
  clearOnFailure = false,
): Promise<FastifyReply> {
  if (answer.status !== status) {
    // A refresh that fails ends the browser's session; a failed sign-in leaves its current one alone.
    if (clearOnFailure && answer.status === 401) clearRefreshCookie(reply);
    return passError(reply, answer);
  }
  const session = JSON.parse(answer.text) as IdpApi.SessionTokens;
  setRefreshCookie(reply, session);
  reply.header('cache-control', 'no-store');
  const body: AccessTokenResponse = {
    accessToken: session.accessToken,
    tokenType: session.tokenType,
    expiresIn: session.expiresIn,
  };
  return reply.code(status).send(body);
}

const problems = { 400: Problem, 401: Problem, 409: Problem, 429: Problem, 503: Problem };

/** Public sign-in routes (`/api/auth/*`), answered by idp; the gateway owns the refresh cookie. */
export function registerAuthRoutes(app: FastifyInstance, idp: Upstream): void {
  app.register(async (scope) => {
    if (!scope.hasDecorator('parseCookie')) await scope.register(fastifyCookie);
    const session = (summary: string, status: 200 | 201, body?: typeof PasswordCredentials, isPublic = true) => ({
      config: { public: isPublic },
      schema: {
        summary,
        tags: ['auth'],
        ...(body ? { body } : {}),
        response: { [status]: AccessTokenResponse, ...problems },
      },
    });
    const route = (path: string, idpPath: string, status: 200 | 201, options: ReturnType<typeof session>) =>
      scope.post(path, options, async (request, reply) =>
        answerSession(reply, await callIdp(idp, request, idpPath, request.body), status),
      );
    route(
      '/api/auth/anonymous',
      '/auth/anonymous',
      201,
      session('Sign in without a form: a new anonymous account.', 201),
    );
    route(
      '/api/auth/signup',
      '/auth/signup',
      201,
      session('Register with email and password.', 201, PasswordCredentials),
    );
    route('/api/auth/login', '/auth/login', 200, session('Sign in with email and password.', 200, PasswordCredentials));
    route(
      '/api/auth/upgrade',
      '/auth/upgrade',
      200,
      session(
        'Turn the signed-in anonymous account into a registered one, keeping its id.',
        200,
        PasswordCredentials,
        false,
      ),
    );
    scope.post(
      '/api/auth/refresh',
      session('A new access token from the refresh cookie (which rotates).', 200),
      async (request, reply) =>
        answerSession(
          reply,
          await callIdp(idp, request, '/auth/refresh', { refreshToken: refreshCookie(request) }),
          200,
          true,
        ),
    );
    scope.post(
      '/api/auth/logout',
      {
        config: { public: true },
        schema: {
          summary: 'Sign out: ends the session of the refresh cookie.',
          tags: ['auth'],
          response: {
            204: { type: 'null', description: 'Signed out (or no session): the refresh cookie is cleared.' },
          },
        },
      },
      async (request, reply) => {
        const answer = await callIdp(idp, request, '/auth/logout', { refreshToken: refreshCookie(request) });
        if (answer.status !== 204) return passError(reply, answer);
        clearRefreshCookie(reply);
        return reply.code(204).send();
      },
    );
    registerOidcRoutes(scope, idp);
  });
}

/** The OIDC start answer of idp, or its error rebuilt. */
export function oidcStartOf(answer: IdpAnswer): IdpApi.OidcStartResponse {
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
