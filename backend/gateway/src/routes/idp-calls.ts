import { IdpApi } from '@taidon/contracts';
import { ACCOUNT_HEADER, callServiceRaw, type HttpResponse } from '@taidon/kit';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { upstreamUnavailable } from '../errors.js';
import type { Upstream } from '../upstream.js';

// How the gateway's sign-in routes (auth.ts, auth-oidc.ts) call idp and hold the session's refresh cookie.

/** Cookie holding the refresh token: httpOnly (no page script reads it), sent only to `/api/auth/*`. */
export const REFRESH_COOKIE = 'taidon_refresh';
const REFRESH_COOKIE_OPTIONS = { httpOnly: true, secure: true, sameSite: 'strict', path: '/api/auth' } as const;

/** An answer of idp, read whole. */
export type IdpAnswer = HttpResponse;

/** Calls idp as the gateway: service token, request id, browser address, the verified account if any. */
export async function callIdp(idp: Upstream, request: FastifyRequest, path: string, body: unknown): Promise<IdpAnswer> {
  const headers: Record<string, string> = { [IdpApi.CLIENT_IP_HEADER]: request.ip };
  const user = request.user as { sub?: string } | undefined;
  if (user?.sub) headers[ACCOUNT_HEADER] = user.sub;
  try {
    return await callServiceRaw({ name: 'idp', ...idp }, path, {
      method: 'POST',
      headers,
      body: body ?? {},
      requestId: request.id,
    });
  } catch (error) {
    throw upstreamUnavailable('A service behind the gateway did not answer.', error);
  }
}

/** Passes an error answer of idp on unchanged (problem+json, Retry-After of the sign-in limit). */
export function passError(reply: FastifyReply, answer: IdpAnswer): FastifyReply {
  const type = answer.headers['content-type'];
  if (type) reply.type(type);
  const retryAfter = answer.headers['retry-after'];
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

/** Ends the browser's session cookie. */
export function clearRefreshCookie(reply: FastifyReply): void {
  reply.clearCookie(REFRESH_COOKIE, REFRESH_COOKIE_OPTIONS);
}

/** Refresh token of the browser, or '' (idp answers IDP_REFRESH_INVALID for it). */
export const refreshCookie = (request: FastifyRequest): string => request.cookies[REFRESH_COOKIE] ?? '';
