import { ACCOUNT_ERROR_CODES } from '@taidon/contracts';
import { DomainError } from '@taidon/kit';
import type pg from 'pg';
import { InvalidCredentialsError } from '../errors.js';
import { selectPasswordByEmail, upsertPassword } from '../store/credentials.js';
import type { SignInAttempts } from './attempts.js';
import { dummyHash, hashPassword, verifyPassword } from './passwords.js';
import { type Session, type SessionContext, startSession } from './sessions.js';

/** Emails are compared case-insensitively, as user-profile does. */
export const normalizeEmail = (email: string): string => email.trim().toLowerCase();

/** Who is calling, as the gateway reports it. */
export interface Caller {
  requestId?: string;
  ip?: string;
}

/**
 * First visit, no form: user-profile creates an anonymous account and idp
 * starts its session. The account can later be upgraded in place, keeping its id.
 */
export async function signInAnonymously(ctx: SessionContext, caller: Caller): Promise<Session> {
  const account = await ctx.accounts.create({ role: 'anonymous' }, caller.requestId);
  return startSession(ctx, account.id, account.role, caller.requestId);
}

/** Email and password sign-up: a learner account in user-profile (which refuses a taken email) and its password. */
export async function signUp(
  ctx: SessionContext,
  input: { email: string; password: string },
  caller: Caller,
): Promise<Session> {
  const email = normalizeEmail(input.email);
  const hash = await hashPassword(input.password);
  const account = await ctx.accounts.create({ role: 'learner', email }, caller.requestId);
  await storePassword(ctx.pool, account.id, email, hash);
  return startSession(ctx, account.id, account.role, caller.requestId);
}

/** An anonymous account becomes a registered learner in place: same id, so its instances and projects stay. */
export async function upgradeWithPassword(
  ctx: SessionContext,
  accountId: string,
  input: { email: string; password: string },
  caller: Caller,
): Promise<Session> {
  const email = normalizeEmail(input.email);
  const hash = await hashPassword(input.password);
  const account = await ctx.accounts.upgrade(accountId, { email }, caller.requestId);
  await storePassword(ctx.pool, account.id, email, hash);
  return startSession(ctx, account.id, account.role, caller.requestId);
}

/**
 * Email and password sign-in. Too many recent failures for the email or the
 * address refuse before the password is checked; an unknown email costs a
 * hash check too and answers exactly like a wrong password.
 */
export async function signInWithPassword(
  ctx: SessionContext,
  attempts: SignInAttempts,
  input: { email: string; password: string },
  caller: Caller,
): Promise<Session> {
  const email = normalizeEmail(input.email);
  await attempts.check(email, caller.ip);
  const credential = await selectPasswordByEmail(ctx.pool, email);
  const ok = await verifyPassword(input.password, credential?.passwordHash ?? (await dummyHash()));
  if (!credential || !ok) {
    await attempts.failed(email, caller.ip);
    throw new InvalidCredentialsError();
  }
  await attempts.succeeded(email);
  return startSession(ctx, credential.accountId, undefined, caller.requestId);
}

async function storePassword(pool: pg.Pool, accountId: string, email: string, hash: string): Promise<void> {
  try {
    await upsertPassword(pool, accountId, email, hash);
  } catch (error) {
    // user-profile already refuses taken emails; a race between two sign-ups ends here (unique_violation).
    if ((error as { code?: string }).code === '23505') {
      throw new DomainError(ACCOUNT_ERROR_CODES.emailTaken, 'Another account already uses this email.', {
        statusCode: 409,
      });
    }
    throw error;
  }
}
