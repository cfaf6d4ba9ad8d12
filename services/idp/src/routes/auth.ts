import { PasswordCredentials } from '@taidon/contracts';
import { ACCOUNT_HEADER, UnauthorizedError } from '@taidon/kit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { SignInAttempts } from '../domain/attempts.js';
import { revokeRefreshToken } from '../domain/refresh.js';
import { refreshSession, type SessionContext } from '../domain/sessions.js';
import { type Caller, signInAnonymously, signInWithPassword, signUp, upgradeWithPassword } from '../domain/sign-in.js';
import { RefreshInvalidError } from '../errors.js';
import { CLIENT_IP_HEADER, type RefreshRequest, RefreshRequestSchema, SessionTokensSchema } from '../schemas.js';

/** The request id and browser address the gateway passed on. */
export function callerOf(request: FastifyRequest): Caller {
  const ip = request.headers[CLIENT_IP_HEADER];
  return { requestId: request.id, ...(typeof ip === 'string' && ip ? { ip } : {}) };
}

/** Every answer carrying tokens must never be cached. */
const noStore = { 'cache-control': 'no-store' };

/** Anonymous, password and refresh-token sign-in, sign-out and upgrade: the gateway's `/api/auth/*`. */
export function registerAuthRoutes(app: FastifyInstance, ctx: SessionContext, attempts: SignInAttempts): void {
  const session = { response: { 200: SessionTokensSchema, 201: SessionTokensSchema } };
  const withCredentials = { ...session, body: PasswordCredentials };
  app.post('/auth/anonymous', { schema: session }, async (request, reply) => {
    reply.code(201).headers(noStore);
    return signInAnonymously(ctx, callerOf(request));
  });
  app.post<{ Body: PasswordCredentials }>('/auth/signup', { schema: withCredentials }, async (request, reply) => {
    reply.code(201).headers(noStore);
    return signUp(ctx, request.body, callerOf(request));
  });
  app.post<{ Body: PasswordCredentials }>('/auth/login', { schema: withCredentials }, async (request, reply) => {
    reply.headers(noStore);
    return signInWithPassword(ctx, attempts, request.body, callerOf(request));
  });
  app.post<{ Body: PasswordCredentials }>('/auth/upgrade', { schema: withCredentials }, async (request, reply) => {
    const accountId = request.headers[ACCOUNT_HEADER];
    if (typeof accountId !== 'string' || !accountId) {
      throw new UnauthorizedError('UNAUTHORIZED', 'An upgrade needs the signed-in account.');
    }
    reply.headers(noStore);
    return upgradeWithPassword(ctx, accountId, request.body, callerOf(request));
  });
  app.post<{ Body: RefreshRequest }>(
    '/auth/refresh',
    { schema: { ...session, body: RefreshRequestSchema } },
    async (request, reply) => {
      if (!request.body.refreshToken) throw new RefreshInvalidError();
      reply.headers(noStore);
      return refreshSession(ctx, request.body.refreshToken, request.id);
    },
  );
  app.post<{ Body: RefreshRequest }>(
    '/auth/logout',
    { schema: { body: RefreshRequestSchema } },
    async (request, reply) => {
      if (request.body.refreshToken) await revokeRefreshToken(ctx.pool, request.body.refreshToken);
      return reply.code(204).send();
    },
  );
}
