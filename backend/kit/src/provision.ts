import pg from 'pg';

/** A service's own role and schema on the control-plane server. */
export interface ServiceDatabase {
  role: string;
  schema: string;
  /** Connection URL that logs in as the service's role; its search_path is its schema. */
  url: string;
}

const NAME = /^[a-z][a-z0-9_]{0,40}$/;

/**
 * Creates (idempotently) the role `taidon_<service>` with `password` and the
 * schema `<service>` it owns, with the role's search_path set to it and no
 * access to other services' schemas. Run with a superuser URL, by the
 * all-in-one launcher or the chart's migration Job.
 */
export async function provisionServiceDatabase(
  superuserUrl: string,
  service: string,
  password: string,
  options: {
    /**
     * The role may create schemas of its own in the database (CREATE on it; nothing on other schemas): the node
     * agents of snapshot-cache each keep their records in a schema of their own (ADR 0045).
     */
    createSchemas?: boolean;
  } = {},
): Promise<ServiceDatabase> {
  const schema = service.replace(/-/g, '_');
  if (!NAME.test(schema)) throw new Error(`invalid service name ${service}`);
  const role = `taidon_${schema}`;
  const client = new pg.Client({ connectionString: superuserUrl });
  await client.connect();
  try {
    const literal = client.escapeLiteral(password);
    const exists = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role]);
    const verb = exists.rowCount === 0 ? 'CREATE' : 'ALTER';
    await client.query(`${verb} ROLE ${role} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD ${literal}`);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema} AUTHORIZATION ${role}`);
    await client.query(`ALTER ROLE ${role} SET search_path = ${schema}`);
    await client.query('REVOKE CREATE ON SCHEMA public FROM PUBLIC');
    const database = client.escapeIdentifier(
      (await client.query<{ name: string }>('SELECT current_database() AS name')).rows[0]?.name ?? '',
    );
    await client.query(
      options.createSchemas
        ? `GRANT CREATE ON DATABASE ${database} TO ${role}`
        : `REVOKE CREATE ON DATABASE ${database} FROM ${role}`,
    );
  } finally {
    await client.end();
  }
  const url = new URL(superuserUrl);
  url.username = role;
  url.password = password;
  return { role, schema, url: url.toString() };
}
