import type { AccessTokenResponse } from '@taidon/contracts';
import type pg from 'pg';
import { insertAnonymousAccount } from '../store/accounts.js';
import { activeSigningKey } from './keys.js';
import { issueAccessToken, type TokenSettings } from './tokens.js';

/**
 * First visit, no form: a new anonymous account and an access token for it.
 * The account can later be upgraded in place, keeping its id.
 */
export async function signInAnonymously(pool: pg.Pool, settings: TokenSettings): Promise<AccessTokenResponse> {
  const account = await insertAnonymousAccount(pool);
  const key = await activeSigningKey(pool);
  const accessToken = await issueAccessToken(key, { accountId: account.id, role: account.role }, settings);
  return { accessToken, tokenType: 'Bearer', expiresIn: settings.ttlSeconds };
}
