import type pg from 'pg';

/** A password credential found by email. */
export interface PasswordCredential {
  accountId: string;
  passwordHash: string;
}

/** The credential of `email` (already lower-cased), if any. */
export async function selectPasswordByEmail(pool: pg.Pool, email: string): Promise<PasswordCredential | undefined> {
  const { rows } = await pool.query<{ account_id: string; password_hash: string }>(
    'SELECT account_id, password_hash FROM password_credentials WHERE email = $1',
    [email],
  );
  const r = rows[0];
  return r ? { accountId: r.account_id, passwordHash: r.password_hash } : undefined;
}

/** Stores (or replaces) the password of an account. */
export async function upsertPassword(pool: pg.Pool, accountId: string, email: string, hash: string): Promise<void> {
  await pool.query(
    `INSERT INTO password_credentials (account_id, email, password_hash) VALUES ($1, $2, $3)
     ON CONFLICT (account_id) DO UPDATE SET email = EXCLUDED.email, password_hash = EXCLUDED.password_hash`,
    [accountId, email, hash],
  );
}

/** The account an OIDC identity signs in as, if linked. */
export async function selectOidcLink(pool: pg.Pool, issuer: string, subject: string): Promise<string | undefined> {
  const { rows } = await pool.query<{ account_id: string }>(
    'SELECT account_id FROM oidc_links WHERE issuer = $1 AND subject = $2',
    [issuer, subject],
  );
  return rows[0]?.account_id;
}

/** Links an OIDC identity to an account. */
export async function insertOidcLink(pool: pg.Pool, issuer: string, subject: string, accountId: string) {
  await pool.query('INSERT INTO oidc_links (issuer, subject, account_id) VALUES ($1, $2, $3)', [
    issuer,
    subject,
    accountId,
  ]);
}
