import type { FastifyInstance } from 'fastify';
import type { OidcSignIn } from '../domain/oidc.js';
import { accountOfRefreshToken } from '../domain/refresh.js';
import type { SessionContext } from '../domain/sessions.js';
import {
  type OidcCallbackRequest,
  OidcCallbackRequestSchema,
  type OidcStartRequest,
  OidcStartRequestSchema,
  OidcStartResponseSchema,
  SessionTokensSchema,
} from '../schemas.js';
import { callerOf } from './auth.js';

/** OpenID Connect login: the gateway redirects the browser to `start`'s URL and hands back the callback's query. */
export function registerOidcRoutes(app: FastifyInstance, ctx: SessionContext, oidc: OidcSignIn): void {
  app.post<{ Body: OidcStartRequest }>(
    '/auth/oidc/start',
    { schema: { body: OidcStartRequestSchema, response: { 200: OidcStartResponseSchema } } },
    async (request, reply) => {
      const token = request.body.upgradeRefreshToken;
      // Upgrading names the account by its session: the browser's navigation to the provider carries no bearer token.
      const upgradeAccountId = token === undefined ? undefined : await accountOfRefreshToken(ctx.pool, token);
      reply.header('cache-control', 'no-store');
      return oidc.start(upgradeAccountId);
    },
  );
  app.post<{ Body: OidcCallbackRequest }>(
    '/auth/oidc/callback',
    { schema: { body: OidcCallbackRequestSchema, response: { 200: SessionTokensSchema } } },
    async (request, reply) => {
      reply.header('cache-control', 'no-store');
      return oidc.callback(request.body.query, callerOf(request));
    },
  );
}
