import type {
  Account,
  AccountList,
  CreateAccountRequest,
  Quotas,
  Role,
  UpdateAccountRequest,
  UpgradeAccountRequest,
} from '@taidon/contracts';
import type pg from 'pg';
import { AccountNotFoundError, AlreadyRegisteredError, InvalidCursorError } from '../errors.js';
import {
  accountExists,
  findAccount,
  insertAccount,
  listAccounts,
  updateAccount,
  upgradeAnonymous,
} from '../store/accounts.js';

/** Page size of the account list when the caller gives none. */
export const DEFAULT_PAGE_SIZE = 50;
/** Largest page the account list answers. */
export const MAX_PAGE_SIZE = 500;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Creates an account; a learner created directly (registration without an anonymous visit) counts as upgraded
 * now. Its email counts as verified only when idp says its identity provider verified it.
 */
export function createAccount(pool: pg.Pool, request: CreateAccountRequest): Promise<Account> {
  const email = request.email?.trim() || null;
  return insertAccount(pool, {
    role: request.role,
    email,
    emailVerified: email !== null && request.emailVerified === true,
    displayName: request.displayName?.trim() || null,
  });
}

/** The account with its effective quotas. */
export async function getAccount(pool: pg.Pool, id: string): Promise<Account> {
  const account = await findAccount(pool, id);
  if (!account) throw new AccountNotFoundError(id);
  return account;
}

/** The limits that apply to the account: its role's defaults with its overrides applied. */
export async function effectiveQuotas(pool: pg.Pool, id: string): Promise<Quotas> {
  return (await getAccount(pool, id)).quotas;
}

/** An anonymous account becomes a learner in place, keeping its id (and so its projects and instances). */
export async function upgradeAccount(pool: pg.Pool, id: string, request: UpgradeAccountRequest): Promise<Account> {
  const upgraded = await upgradeAnonymous(pool, id, {
    email: request.email.trim(),
    emailVerified: request.emailVerified === true,
    displayName: request.displayName?.trim() || null,
  });
  if (upgraded) return upgraded;
  const account = await getAccount(pool, id);
  throw new AlreadyRegisteredError(id, account.role);
}

/** Admin change: the role, and/or the overrides (replaced as a whole: `{}` clears them all). */
export async function changeAccount(pool: pg.Pool, id: string, request: UpdateAccountRequest): Promise<Account> {
  const account = await updateAccount(pool, id, request);
  if (!account) throw new AccountNotFoundError(id);
  return account;
}

/** One page of accounts, oldest first; the cursor is opaque to callers. */
export async function listAccountPage(
  pool: pg.Pool,
  query: { role?: Role; limit?: number; cursor?: string },
): Promise<AccountList> {
  const limit = Math.min(query.limit ?? DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE);
  let afterId: string | undefined;
  if (query.cursor !== undefined) {
    afterId = Buffer.from(query.cursor, 'base64url').toString('utf8');
    if (!UUID.test(afterId) || !(await accountExists(pool, afterId))) throw new InvalidCursorError();
  }
  const accounts = await listAccounts(pool, { ...(query.role ? { role: query.role } : {}), limit: limit + 1, afterId });
  const page = accounts.slice(0, limit);
  const last = page[page.length - 1];
  return {
    accounts: page,
    nextCursor: accounts.length > limit && last ? Buffer.from(last.id, 'utf8').toString('base64url') : null,
  };
}
