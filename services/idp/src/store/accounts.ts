import type pg from 'pg';

/** An account as idp stores it. */
export interface AccountRow {
  id: string;
  role: 'anonymous' | 'learner' | 'instructor' | 'admin';
  createdAt: Date;
}

/** Inserts a new anonymous account and returns it. */
export async function insertAnonymousAccount(pool: pg.Pool): Promise<AccountRow> {
  const { rows } = await pool.query<{ id: string; role: AccountRow['role']; created_at: Date }>(
    `INSERT INTO accounts (role) VALUES ('anonymous') RETURNING id, role, created_at`,
  );
  const row = rows[0];
  if (!row) throw new Error('INSERT … RETURNING returned no row');
  return { id: row.id, role: row.role, createdAt: row.created_at };
}
