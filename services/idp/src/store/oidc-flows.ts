import type pg from 'pg';

/** An OIDC login between the redirect to the provider and its callback. */
export interface OidcFlow {
  codeVerifier: string;
  nonce: string;
  upgradeAccountId: string | null;
}

/** Stores a flow under the hash of its state; expired flows are dropped on the way. */
export async function insertFlow(pool: pg.Pool, stateHash: Buffer, flow: OidcFlow, ttlSeconds: number) {
  await pool.query(
    `WITH gone AS (DELETE FROM oidc_flows WHERE expires_at < now())
     INSERT INTO oidc_flows (state_hash, code_verifier, nonce, upgrade_account_id, expires_at)
     VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5))`,
    [stateHash, flow.codeVerifier, flow.nonce, flow.upgradeAccountId, ttlSeconds],
  );
}

/** Takes (deletes and returns) the unexpired flow of a state: a state works once. */
export async function takeFlow(pool: pg.Pool, stateHash: Buffer): Promise<OidcFlow | undefined> {
  const { rows } = await pool.query<{ code_verifier: string; nonce: string; upgrade_account_id: string | null }>(
    `DELETE FROM oidc_flows WHERE state_hash = $1 AND expires_at > now()
     RETURNING code_verifier, nonce, upgrade_account_id`,
    [stateHash],
  );
  const r = rows[0];
  return r ? { codeVerifier: r.code_verifier, nonce: r.nonce, upgradeAccountId: r.upgrade_account_id } : undefined;
}
