import type pg from 'pg';

type Queryable = pg.Pool | pg.PoolClient;

/** A refresh token as stored (its hash), with its family's state. */
export interface RefreshTokenRow {
  familyId: string;
  accountId: string;
  expiresAt: Date;
  rotatedAt: Date | null;
  familyRevokedAt: Date | null;
}

/**
 * Starts a family for one sign-in of `accountId` with its first token (by hash), in one statement: atomic
 * without a transaction of its own, one round trip instead of four (BEGIN, two inserts, COMMIT).
 */
export async function insertFamilyWithToken(db: Queryable, accountId: string, tokenHash: Buffer, ttlSeconds: number) {
  const { rowCount } = await db.query(
    `WITH family AS (INSERT INTO refresh_families (account_id) VALUES ($1) RETURNING id)
     INSERT INTO refresh_tokens (token_hash, family_id, expires_at)
     SELECT $2, id, now() + make_interval(secs => $3) FROM family`,
    [accountId, tokenHash, ttlSeconds],
  );
  if (rowCount !== 1) throw new Error('the refresh family and its token were not stored');
}

/** Stores a token (by hash) in a family. */
export async function insertToken(db: Queryable, familyId: string, tokenHash: Buffer, ttlSeconds: number) {
  await db.query(
    `INSERT INTO refresh_tokens (token_hash, family_id, expires_at)
     VALUES ($1, $2, now() + make_interval(secs => $3))`,
    [tokenHash, familyId, ttlSeconds],
  );
}

/** The token with this hash, locked for the caller's transaction. */
export async function selectTokenForUpdate(db: Queryable, tokenHash: Buffer): Promise<RefreshTokenRow | undefined> {
  const { rows } = await db.query<{
    family_id: string;
    account_id: string;
    expires_at: Date;
    rotated_at: Date | null;
    revoked_at: Date | null;
  }>(
    `SELECT t.family_id, f.account_id, t.expires_at, t.rotated_at, f.revoked_at
       FROM refresh_tokens t JOIN refresh_families f ON f.id = t.family_id
      WHERE t.token_hash = $1
      FOR UPDATE OF t, f`,
    [tokenHash],
  );
  const r = rows[0];
  if (!r) return undefined;
  return {
    familyId: r.family_id,
    accountId: r.account_id,
    expiresAt: r.expires_at,
    rotatedAt: r.rotated_at,
    familyRevokedAt: r.revoked_at,
  };
}

/** Marks a token used; the next use of it is a reuse. */
export async function markRotated(db: Queryable, tokenHash: Buffer): Promise<void> {
  await db.query('UPDATE refresh_tokens SET rotated_at = now() WHERE token_hash = $1', [tokenHash]);
}

/** Ends a family: none of its tokens refreshes again. */
export async function revokeFamily(db: Queryable, familyId: string, reason: string): Promise<void> {
  await db.query(
    'UPDATE refresh_families SET revoked_at = now(), revoked_reason = $2 WHERE id = $1 AND revoked_at IS NULL',
    [familyId, reason],
  );
}
