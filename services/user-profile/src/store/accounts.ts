import type { Account, QuotaOverrides, Quotas, Role } from '@taidon/contracts';
import type pg from 'pg';
import { EmailTakenError } from '../errors.js';

/** Quota fields and the columns that hold their overrides and role defaults. */
const QUOTA_COLUMNS = {
  instances: 'instances',
  storageBytes: 'storage_bytes',
  runsPerMinute: 'runs_per_minute',
  idleTtlSeconds: 'idle_ttl_seconds',
} as const satisfies Record<keyof Quotas, string>;

type QuotaName = keyof typeof QUOTA_COLUMNS;
const QUOTA_NAMES = Object.keys(QUOTA_COLUMNS) as QuotaName[];

interface AccountRecord {
  id: string;
  role: Role;
  email: string | null;
  display_name: string | null;
  created_at: Date;
  upgraded_at: Date | null;
  [column: string]: unknown;
}

/** Account columns, every override, and every role default (as `default_<column>`). */
const SELECT = `SELECT a.id, a.role, a.email, a.display_name, a.created_at, a.upgraded_at,
  ${QUOTA_NAMES.map((n) => `a.${QUOTA_COLUMNS[n]}_override, q.${QUOTA_COLUMNS[n]} AS default_${QUOTA_COLUMNS[n]}`).join(', ')}
  FROM accounts a JOIN role_quotas q ON q.role = a.role`;
/** The same of a row inserted in the statement's `inserted` CTE. */
const SELECT_INSERTED = SELECT.replace('FROM accounts a', 'FROM inserted a');

// bigint arrives as a string; quotas stay far below 2^53.
const int = (value: unknown): number | null => (value === null || value === undefined ? null : Number(value));

function toAccount(row: AccountRecord): Account {
  const overrides: QuotaOverrides = {};
  const quotas = {} as Quotas;
  for (const name of QUOTA_NAMES) {
    const override = int(row[`${QUOTA_COLUMNS[name]}_override`]);
    if (override !== null) overrides[name] = override;
    quotas[name] = override ?? int(row[`default_${QUOTA_COLUMNS[name]}`]) ?? 0;
  }
  return {
    id: row.id,
    role: row.role,
    email: row.email,
    displayName: row.display_name,
    createdAt: row.created_at.toISOString(),
    upgradedAt: row.upgraded_at?.toISOString() ?? null,
    quotas,
    overrides,
  };
}

/** Runs a write whose unique violation on the email index means the email is taken (by SQLSTATE, not message). */
async function writing<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    const pgError = error as { code?: string; constraint?: string };
    if (pgError.code === '23505' && pgError.constraint === 'accounts_email') throw new EmailTakenError();
    throw error;
  }
}

/** The account with its effective quotas, or undefined. */
export async function findAccount(pool: pg.Pool, id: string): Promise<Account | undefined> {
  const { rows } = await pool.query<AccountRecord>(`${SELECT} WHERE a.id = $1`, [id]);
  return rows[0] ? toAccount(rows[0]) : undefined;
}

/** Inserts an account and returns it. */
export async function insertAccount(
  pool: pg.Pool,
  input: { role: Role; email: string | null; emailVerified: boolean; displayName: string | null },
): Promise<Account> {
  // The new row read back with its role's defaults in the same statement: one round trip per sign-up.
  const { rows } = await writing(() =>
    pool.query<AccountRecord>(
      `WITH inserted AS (
         INSERT INTO accounts (role, email, display_name, upgraded_at, email_verified)
         VALUES ($1, $2, $3, CASE WHEN $1 = 'anonymous' THEN NULL ELSE now() END, $4) RETURNING *)
       ${SELECT_INSERTED}`,
      [input.role, input.email, input.displayName, input.emailVerified],
    ),
  );
  if (!rows[0]) throw new Error('INSERT … RETURNING returned no row');
  return toAccount(rows[0]);
}

/**
 * Makes an anonymous account a learner with `email`, in one conditional
 * update; undefined when no anonymous account has this id (the caller tells
 * unknown from already registered).
 */
export async function upgradeAnonymous(
  pool: pg.Pool,
  id: string,
  input: { email: string; emailVerified: boolean; displayName: string | null },
): Promise<Account | undefined> {
  const { rowCount } = await writing(() =>
    pool.query(
      `UPDATE accounts SET role = 'learner', email = $2, display_name = COALESCE($3, display_name), upgraded_at = now(),
              email_verified = $4
       WHERE id = $1 AND role = 'anonymous'`,
      [id, input.email, input.displayName, input.emailVerified],
    ),
  );
  return rowCount === 0 ? undefined : findAccount(pool, id);
}

/** Sets the role and/or replaces every override (absent quotas cleared); undefined when the id is unknown. */
export async function updateAccount(
  pool: pg.Pool,
  id: string,
  change: { role?: Role; overrides?: QuotaOverrides },
): Promise<Account | undefined> {
  const sets: string[] = [];
  const values: unknown[] = [id];
  if (change.role !== undefined) {
    values.push(change.role);
    sets.push(`role = $${values.length}`);
  }
  if (change.overrides !== undefined) {
    for (const name of QUOTA_NAMES) {
      values.push(change.overrides[name] ?? null);
      sets.push(`${QUOTA_COLUMNS[name]}_override = $${values.length}`);
    }
  }
  if (sets.length > 0) {
    const { rowCount } = await pool.query(`UPDATE accounts SET ${sets.join(', ')} WHERE id = $1`, values);
    if (rowCount === 0) return undefined;
  }
  return findAccount(pool, id);
}

/** Accounts oldest first, optionally of one role, after the account `afterId` (keyset pagination). */
export async function listAccounts(
  pool: pg.Pool,
  filter: { role?: Role; limit: number; afterId?: string },
): Promise<Account[]> {
  const { rows } = await pool.query<AccountRecord>(
    `${SELECT}
     WHERE ($1::text IS NULL OR a.role = $1)
       AND ($2::uuid IS NULL OR (a.created_at, a.id) > (SELECT created_at, id FROM accounts WHERE id = $2))
     ORDER BY a.created_at, a.id LIMIT $3`,
    [filter.role ?? null, filter.afterId ?? null, filter.limit],
  );
  return rows.map(toAccount);
}

/** Whether an account has this id (a cursor must name one). */
export async function accountExists(pool: pg.Pool, id: string): Promise<boolean> {
  const { rowCount } = await pool.query('SELECT 1 FROM accounts WHERE id = $1', [id]);
  return (rowCount ?? 0) > 0;
}

/**
 * While no account is admin, makes `admin` every registered account whose email (compared case-insensitively)
 * is in `emails` and was verified by an identity provider; returns each one promoted with the role it had.
 * Once there is an admin it does nothing, so a list left in the configuration cannot make a later sign-up with
 * a listed email admin. A password sign-up's email is never verified: anyone may sign up first with a listed
 * address. Anonymous accounts have no email.
 */
export async function promoteToAdmin(
  pool: pg.Pool,
  emails: readonly string[],
): Promise<{ id: string; email: string; previousRole: Role }[]> {
  if (emails.length === 0) return [];
  const { rows } = await pool.query<{ id: string; email: string; previous_role: Role }>(
    `UPDATE accounts AS a SET role = 'admin'
       FROM (SELECT id, role AS previous_role FROM accounts
              WHERE lower(email) = ANY($1::text[]) AND email_verified AND role <> 'admin'
                AND NOT EXISTS (SELECT 1 FROM accounts WHERE role = 'admin')
              FOR UPDATE) AS before
      WHERE a.id = before.id
      RETURNING a.id, a.email, before.previous_role`,
    [emails.map((e) => e.toLowerCase())],
  );
  return rows.map((r) => ({ id: r.id, email: r.email, previousRole: r.previous_role }));
}
