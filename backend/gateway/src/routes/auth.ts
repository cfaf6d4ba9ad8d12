import fastifyCookie from '@fastify/cookie';
import { AccessTokenResponse, type IdpApi, PasswordCredentials, Problem } from '@taidon/contracts';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { rememberSignedIn } from '../audit-events.js';
import type { Upstream } from '../upstream.js';
import { registerOidcRoutes } from './auth-oidc.js';
import {
  callIdp,
  clearRefreshCookie,
  type IdpAnswer,
  passError,
  refreshCookie,
  setRefreshCookie,
} from './idp-calls.js';

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
  rememberSignedIn(reply.request, session.accountId);
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
