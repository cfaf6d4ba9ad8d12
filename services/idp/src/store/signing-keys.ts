import type pg from 'pg';

/** A stored signing key pair (JWK form). */
export interface SigningKeyRow {
  kid: string;
  algorithm: string;
  publicJwk: Record<string, unknown>;
  privateJwk: Record<string, unknown>;
  createdAt: Date;
  retiredAt: Date | null;
}

interface Raw {
  kid: string;
  algorithm: string;
  public_jwk: Record<string, unknown>;
  private_jwk: Record<string, unknown>;
  created_at: Date;
  retired_at: Date | null;
}

const toRow = (r: Raw): SigningKeyRow => ({
  kid: r.kid,
  algorithm: r.algorithm,
  publicJwk: r.public_jwk,
  privateJwk: r.private_jwk,
  createdAt: r.created_at,
  retiredAt: r.retired_at,
});

type Queryable = pg.Pool | pg.PoolClient;

/** The newest key that is not retired, if any. */
export async function selectActiveKey(db: Queryable): Promise<SigningKeyRow | undefined> {
  const { rows } = await db.query<Raw>(
    'SELECT * FROM signing_keys WHERE retired_at IS NULL ORDER BY created_at DESC, kid LIMIT 1',
  );
  return rows[0] ? toRow(rows[0]) : undefined;
}

/** Keys whose tokens may still be valid: unretired, or retired less than `graceSeconds` ago. */
export async function selectPublishedKeys(db: Queryable, graceSeconds: number): Promise<SigningKeyRow[]> {
  const { rows } = await db.query<Raw>(
    `SELECT * FROM signing_keys
      WHERE retired_at IS NULL OR retired_at > now() - make_interval(secs => $1)
      ORDER BY created_at DESC`,
    [graceSeconds],
  );
  return rows.map(toRow);
}

/** Stores a new key; the conflict clause makes concurrent first starts harmless. */
export async function insertKey(db: Queryable, key: Omit<SigningKeyRow, 'createdAt' | 'retiredAt'>): Promise<void> {
  await db.query(
    'INSERT INTO signing_keys (kid, algorithm, public_jwk, private_jwk) VALUES ($1, $2, $3, $4) ON CONFLICT (kid) DO NOTHING',
    [key.kid, key.algorithm, key.publicJwk, key.privateJwk],
  );
}

/** Retires every key but `keepKid`; they stay published until their tokens expire. */
export async function retireOtherKeys(db: Queryable, keepKid: string): Promise<void> {
  await db.query('UPDATE signing_keys SET retired_at = now() WHERE retired_at IS NULL AND kid <> $1', [keepKid]);
}
