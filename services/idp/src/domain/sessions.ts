import type { Role } from '@taidon/contracts';
import type pg from 'pg';
import type { AccountsClient } from './accounts-client.js';
import type { SigningKeys } from './keys.js';
import { rotateRefreshToken, startRefreshFamily } from './refresh.js';
import { issueAccessToken } from './tokens.js';

/** What a sign-in hands the gateway: the access token for the body, the refresh token for the cookie. */
export interface Session {
  accessToken: string;
  tokenType: 'Bearer';
  expiresIn: number;
  refreshToken: string;
  refreshExpiresIn: number;
  accountId: string;
  role: Role;
}

/** Everything that issuing sessions needs. */
export interface SessionContext {
  pool: pg.Pool;
  keys: SigningKeys;
  accounts: AccountsClient;
  issuer: string;
  audience: string;
  accessTtlSeconds: number;
  refreshTtlSeconds: number;
}

async function accessFor(ctx: SessionContext, accountId: string, role: Role | undefined, requestId?: string) {
  // idp keeps no roles: user-profile says what this account is right now.
  const current = role ?? (await ctx.accounts.get(accountId, requestId)).role;
  const accessToken = await issueAccessToken(
    await ctx.keys.active(),
    { accountId, role: current },
    { issuer: ctx.issuer, audience: ctx.audience, ttlSeconds: ctx.accessTtlSeconds },
  );
  return { accessToken, role: current };
}

/**
 * A new session (a new refresh family) for `accountId`. `role` may be passed
 * when user-profile just answered with it (sign-up, upgrade), saving a call.
 */
export async function startSession(
  ctx: SessionContext,
  accountId: string,
  role?: Role,
  requestId?: string,
): Promise<Session> {
  const { accessToken, role: current } = await accessFor(ctx, accountId, role, requestId);
  const refreshToken = await startRefreshFamily(ctx.pool, accountId, ctx.refreshTtlSeconds);
  return {
    accessToken,
    tokenType: 'Bearer',
    expiresIn: ctx.accessTtlSeconds,
    refreshToken,
    refreshExpiresIn: ctx.refreshTtlSeconds,
    accountId,
    role: current,
  };
}

/** The next access token and refresh token of a session, from its current refresh token. */
export async function refreshSession(ctx: SessionContext, refreshToken: string, requestId?: string): Promise<Session> {
  const rotated = await rotateRefreshToken(ctx.pool, refreshToken, ctx.refreshTtlSeconds);
  const { accessToken, role } = await accessFor(ctx, rotated.accountId, undefined, requestId);
  return {
    accessToken,
    tokenType: 'Bearer',
    expiresIn: ctx.accessTtlSeconds,
    refreshToken: rotated.refreshToken,
    refreshExpiresIn: ctx.refreshTtlSeconds,
    accountId: rotated.accountId,
    role,
  };
}
