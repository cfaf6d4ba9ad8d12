import type pg from 'pg';
import { SANDBOX_DATABASE, SANDBOX_USER } from './template.js';

/**
 * The database inside an instance that keeps the state the instance was
 * cloned from, so that a reset recreates the sandbox database from it
 * (a reflink copy of its files) instead of starting a new server (ADR 0029).
 * Owned by the superuser and closed to every connection: the learner can
 * neither connect to it nor copy it (NOCREATEDB, not its owner).
 */
export const TEMPLATE_DATABASE = 'taidon_base';

/** What the template database's comment records: the key it is at, and the learner role's state then. */
interface TemplateLabel {
  key: string;
  role: string;
}

/**
 * The part of the cluster the learner can change that a new sandbox database would not reset: their own
 * role's password, settings and connection limit. A reset is only sound while it is as it was in the state.
 */
const ROLE_STATE = `
  SELECT md5(concat_ws('|', a.rolpassword, a.rolvaliduntil::text, a.rolconnlimit::text,
           (SELECT string_agg(c, ',' ORDER BY c) FROM pg_db_role_setting s, unnest(s.setconfig) c
             WHERE s.setrole = a.oid AND s.setdatabase = 0))) AS role
    FROM pg_authid a WHERE a.rolname = $1`;

/**
 * Whether the sandbox database is as the platform made it at the level a new database starts from: no
 * settings of its own (ALTER DATABASE … SET, ALTER ROLE … IN DATABASE), default privileges and connection
 * limit, no comment. A state that changed them cannot be restored by a new database, so it gets no template.
 */
const SANDBOX_AT_DEFAULTS = `
  SELECT d.datacl IS NULL AND d.datconnlimit = -1
     AND NOT EXISTS (SELECT 1 FROM pg_db_role_setting s WHERE s.setdatabase = d.oid)
     AND shobj_description(d.oid, 'pg_database') IS NULL AS ok
    FROM pg_database d WHERE d.datname = $1`;

const quote = (name: string) => `"${name.replaceAll('"', '""')}"`;

/**
 * Keeps the sandbox database's current state, at `key`, as the instance's template database (replacing any
 * it had). Answers false without one when the state cannot be reset to soundly, or when a connection to the
 * sandbox is open (a copy needs it idle: only a new instance, before it is handed out, qualifies).
 * `client` is a superuser connection to another database than the sandbox's.
 */
export async function keepTemplateDatabase(client: pg.Client, key: string): Promise<boolean> {
  await client.query(`DROP DATABASE IF EXISTS ${quote(TEMPLATE_DATABASE)}`);
  const [atDefaults] = (await client.query<{ ok: boolean }>(SANDBOX_AT_DEFAULTS, [SANDBOX_DATABASE])).rows;
  if (!atDefaults?.ok) return false;
  const [role] = (await client.query<{ role: string }>(ROLE_STATE, [SANDBOX_USER])).rows;
  if (!role) return false;
  // A reflink of each file where the filesystem can (btrfs, XFS); elsewhere the kernel copies the bytes.
  await client.query('SET file_copy_method = clone');
  try {
    await client.query(
      `CREATE DATABASE ${quote(TEMPLATE_DATABASE)} TEMPLATE ${quote(SANDBOX_DATABASE)} STRATEGY FILE_COPY`,
    );
  } catch (error) {
    if ((error as { code?: string }).code === '55006') return false; // somebody is connected to the sandbox
    throw error;
  }
  const label: TemplateLabel = { key, role: role.role };
  // Closed twice over: no connection at all (even the superuser's), and no CONNECT privilege should that change.
  await client.query(`ALTER DATABASE ${quote(TEMPLATE_DATABASE)} ALLOW_CONNECTIONS false`);
  await client.query(`REVOKE ALL ON DATABASE ${quote(TEMPLATE_DATABASE)} FROM PUBLIC`);
  await client.query(`COMMENT ON DATABASE ${quote(TEMPLATE_DATABASE)} IS '${JSON.stringify(label)}'`);
  return true;
}

/** Why a reset from the template database was refused; the caller starts the state another way. */
export type TemplateRefusal = 'no template' | 'unreadable label' | 'another key' | 'role changed';

/**
 * A reset that failed once the sandbox database was being dropped: the instance may have no sandbox left.
 * A failure before that (reading the label, ending the connections) leaves the sandbox as it was.
 */
export class SandboxDroppedError extends Error {
  constructor(cause: unknown) {
    super(
      `the sandbox database was dropped and not made again: ${cause instanceof Error ? cause.message : String(cause)}`,
      {
        cause,
      },
    );
    this.name = 'SandboxDroppedError';
  }
}

/**
 * Recreates the sandbox database from the template database when that is at `key` and the learner's role
 * is as it was then: every connection to the sandbox is ended first (the learner's, a prepared one), then
 * the database is dropped and copied again. Answers null on success, else why it was refused (nothing
 * changed then). A failure once the drop began throws SandboxDroppedError. `client` is a superuser connection to another database than the sandbox's.
 */
export async function resetFromTemplate(client: pg.Client, key: string): Promise<TemplateRefusal | null> {
  const { rows } = await client.query<{ label: string | null; role: string | null }>(
    `SELECT shobj_description(d.oid, 'pg_database') AS label, (${ROLE_STATE}) AS role
       FROM pg_database d WHERE d.datname = $2`,
    [SANDBOX_USER, TEMPLATE_DATABASE],
  );
  const found = rows[0];
  if (!found?.label) return 'no template';
  let label: Partial<TemplateLabel>;
  try {
    label = JSON.parse(found.label) as Partial<TemplateLabel>;
  } catch {
    return 'unreadable label';
  }
  if (label.key !== key) return 'another key';
  if (label.role !== found.role) return 'role changed';
  // Ended and waited for here: DROP DATABASE … WITH (FORCE) waits for them in steps of 100 ms.
  await client.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [SANDBOX_DATABASE]);
  for (let i = 0; i < 2000; i++) {
    const left = await client.query('SELECT 1 FROM pg_stat_activity WHERE datname = $1', [SANDBOX_DATABASE]);
    if (left.rowCount === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  try {
    await client.query(`DROP DATABASE ${quote(SANDBOX_DATABASE)} WITH (FORCE)`);
    await client.query('SET file_copy_method = clone');
    await client.query(
      `CREATE DATABASE ${quote(SANDBOX_DATABASE)} OWNER ${quote(SANDBOX_USER)} TEMPLATE ${quote(TEMPLATE_DATABASE)} STRATEGY FILE_COPY`,
    );
  } catch (error) {
    throw new SandboxDroppedError(error);
  }
  return null;
}
