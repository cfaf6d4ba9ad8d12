import pg from 'pg';

/** The NOLOGIN role that owns the sealed audit table and schema; nobody logs in as it. */
export const AUDIT_OWNER_ROLE = 'taidon_audit_log_owner';

/**
 * Makes the append-only rule hold against the service's own role: run with
 * a superuser URL after audit-log's migrations (by the launcher or the
 * chart's migration Job). The table and the schema pass to a NOLOGIN owner,
 * so the service role keeps only SELECT and INSERT on the events: it can no
 * longer UPDATE, DELETE, TRUNCATE, disable the trigger, grant itself
 * privileges back, or drop the table. Idempotent.
 */
export async function sealAuditLog(superuserUrl: string, service: { role: string; schema: string }): Promise<void> {
  const client = new pg.Client({ connectionString: superuserUrl });
  await client.connect();
  try {
    const role = client.escapeIdentifier(service.role);
    const schema = client.escapeIdentifier(service.schema);
    const owner = client.escapeIdentifier(AUDIT_OWNER_ROLE);
    const exists = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [AUDIT_OWNER_ROLE]);
    // Two databases of one server (tests) may seal at once; the role is server-wide.
    if (exists.rowCount === 0) {
      await client.query(`CREATE ROLE ${owner} NOLOGIN`).catch((error: { code?: string }) => {
        if (error.code !== '42710' && error.code !== '23505') throw error;
      });
    }
    await client.query('BEGIN');
    await client.query(`ALTER SCHEMA ${schema} OWNER TO ${owner}`);
    // CREATE stays so later migrations can add their own tables; it does not reach other owners' tables.
    await client.query(`GRANT USAGE, CREATE ON SCHEMA ${schema} TO ${role}`);
    await client.query(`ALTER TABLE ${schema}.audit_events OWNER TO ${owner}`);
    await client.query(`ALTER FUNCTION ${schema}.audit_events_refuse_change() OWNER TO ${owner}`);
    await client.query(`REVOKE ALL ON ${schema}.audit_events FROM ${role}`);
    await client.query(`GRANT SELECT, INSERT ON ${schema}.audit_events TO ${role}`);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    await client.end();
  }
}
