import { createHash, randomBytes } from 'node:crypto';
import { withTransaction } from '@taidon/kit';
import type pg from 'pg';
import { RefreshInvalidError, RefreshReusedError } from '../errors.js';
import {
  insertFamilyWithToken,
  insertToken,
  markRotated,
  revokeFamily,
  selectTokenForUpdate,
} from '../store/refresh-tokens.js';

/** Only the hash is stored: a database leak hands out no usable session. */
export const hashRefreshToken = (token: string): Buffer => createHash('sha256').update(token).digest();

const newToken = (): string => randomBytes(32).toString('base64url');

/** A new family for one sign-in and its first token. */
export async function startRefreshFamily(pool: pg.Pool, accountId: string, ttlSeconds: number): Promise<string> {
  const token = newToken();
  await insertFamilyWithToken(pool, accountId, hashRefreshToken(token), ttlSeconds);
  return token;
}

/**
 * Exchanges a refresh token for the next one of its family. A token used a
 * second time means two parties hold it, so the whole family is revoked
 * (the revocation commits even though the call fails).
 */
export async function rotateRefreshToken(
  pool: pg.Pool,
  token: string,
  ttlSeconds: number,
): Promise<{ accountId: string; refreshToken: string }> {
  const hash = hashRefreshToken(token);
  const outcome = await withTransaction(pool, async (client) => {
    const row = await selectTokenForUpdate(client, hash);
    if (!row || row.familyRevokedAt !== null || row.expiresAt.getTime() <= Date.now()) return 'invalid' as const;
    if (row.rotatedAt !== null) {
      await revokeFamily(client, row.familyId, 'reuse');
      return 'reused' as const;
    }
    await markRotated(client, hash);
    const next = newToken();
    await insertToken(client, row.familyId, hashRefreshToken(next), ttlSeconds);
    return { accountId: row.accountId, refreshToken: next };
  });
  if (outcome === 'invalid') throw new RefreshInvalidError();
  if (outcome === 'reused') throw new RefreshReusedError();
  return outcome;
}

/** Sign-out: the family of `token` ends. Unknown tokens are ignored, so sign-out always succeeds. */
export async function revokeRefreshToken(pool: pg.Pool, token: string): Promise<void> {
  await withTransaction(pool, async (client) => {
    const row = await selectTokenForUpdate(client, hashRefreshToken(token));
    if (row) await revokeFamily(client, row.familyId, 'sign-out');
  });
}

/** The account a still-usable refresh token belongs to, without rotating it (OIDC upgrade start). */
export async function accountOfRefreshToken(pool: pg.Pool, token: string): Promise<string> {
  return withTransaction(pool, async (client) => {
    const row = await selectTokenForUpdate(client, hashRefreshToken(token));
    if (!row || row.familyRevokedAt !== null || row.rotatedAt !== null || row.expiresAt.getTime() <= Date.now()) {
      throw new RefreshInvalidError();
    }
    return row.accountId;
  });
}
