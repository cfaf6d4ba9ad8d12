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

/** The newest key that is not retired, if any. */
export async function selectActiveKey(pool: pg.Pool): Promise<SigningKeyRow | undefined> {
  const { rows } = await pool.query<Raw>(
    'SELECT * FROM signing_keys WHERE retired_at IS NULL ORDER BY created_at DESC, kid LIMIT 1',
  );
  return rows[0] ? toRow(rows[0]) : undefined;
}

/** Keys whose tokens may still be valid: unretired, or retired less than `graceSeconds` ago. */
export async function selectPublishedKeys(pool: pg.Pool, graceSeconds: number): Promise<SigningKeyRow[]> {
  const { rows } = await pool.query<Raw>(
    `SELECT * FROM signing_keys
      WHERE retired_at IS NULL OR retired_at > now() - make_interval(secs => $1)
      ORDER BY created_at DESC`,
    [graceSeconds],
  );
  return rows.map(toRow);
}

/** Stores a new key; the conflict clause makes concurrent first starts harmless. */
export async function insertKey(pool: pg.Pool, key: Omit<SigningKeyRow, 'createdAt' | 'retiredAt'>): Promise<void> {
  await pool.query(
    'INSERT INTO signing_keys (kid, algorithm, public_jwk, private_jwk) VALUES ($1, $2, $3, $4) ON CONFLICT (kid) DO NOTHING',
    [key.kid, key.algorithm, key.publicJwk, key.privateJwk],
  );
}
