import { join } from 'node:path';
import { type PostgresServer, provisionServiceDatabase, type ServiceDatabase, startPostgresServer } from '@taidon/kit';
import pg from 'pg';

/** Name of the control-plane database that holds one schema per service. */
export const CONTROL_PLANE_DATABASE = 'taidon';

/** The control-plane server as the launcher uses it. */
export interface ControlPlane {
  /** Present when the launcher started the bundled server (and must stop it). */
  server: PostgresServer | undefined;
  databases: Record<string, ServiceDatabase>;
  /** Superuser URL of the `taidon` database (for steps only a superuser may take, such as sealing the audit log). */
  superuserUrl: string;
}

async function ensureDatabase(superuserUrl: string): Promise<string> {
  const client = new pg.Client({ connectionString: superuserUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [CONTROL_PLANE_DATABASE]);
    if (rowCount === 0) await client.query(`CREATE DATABASE ${CONTROL_PLANE_DATABASE}`);
  } finally {
    await client.end();
  }
  const url = new URL(superuserUrl);
  url.pathname = `/${CONTROL_PLANE_DATABASE}`;
  return url.toString();
}

/**
 * Starts the bundled PostgreSQL under `<dataDir>/control-plane` (or uses
 * `databaseUrl`), makes sure the `taidon` database exists, and gives each
 * service its own role and schema.
 */
export async function openControlPlane(options: {
  dataDir: string;
  databaseUrl: string | undefined;
  rolePasswords: Record<string, string>;
  onLog: (line: string) => void;
}): Promise<ControlPlane> {
  // Bound to this process: a launcher killed with -9 leaves no control-plane server running.
  const server = options.databaseUrl
    ? undefined
    : await startPostgresServer({
        rootDir: join(options.dataDir, 'control-plane'),
        onLog: options.onLog,
        stopWithParent: true,
      });
  try {
    const superuserUrl = await ensureDatabase(options.databaseUrl ?? (server as PostgresServer).url);
    const databases: Record<string, ServiceDatabase> = {};
    for (const [service, password] of Object.entries(options.rolePasswords)) {
      // snapshot-cache's node agents keep their (node-local) records in a schema each (ADR 0045).
      databases[service] = await provisionServiceDatabase(superuserUrl, service, password, {
        createSchemas: service === 'snapshot-cache',
      });
    }
    return { server, databases, superuserUrl };
  } catch (error) {
    await server?.stop();
    throw error;
  }
}
