import type { SessionSchema } from '@taidon/contracts';
import { NotFoundError } from '@taidon/kit';
import pg from 'pg';
import { selectSession } from '../../store/sessions.js';
import type { RunnerDeps } from './context.js';

/** Most columns listed, so a learner's huge schema cannot make completion slow. */
const MAX_COLUMNS = 5_000;

const RELATION_KINDS: Record<string, string> = {
  r: 'table',
  p: 'partitioned table',
  v: 'view',
  m: 'materialized view',
  f: 'foreign table',
};

// The learner's own relations: everything outside PostgreSQL's catalogs.
const CATALOG_SQL = `
SELECT n.nspname AS schema, c.relname AS name, c.relkind AS kind,
       a.attname AS column, format_type(a.atttypid, a.atttypmod) AS type
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
 WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
   AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
 ORDER BY n.nspname, c.relname, a.attnum
 LIMIT ${MAX_COLUMNS}`;

interface CatalogRow {
  schema: string;
  name: string;
  kind: string;
  column: string | null;
  type: string | null;
}

/** Groups catalog rows (one per column) into tables with their columns. */
export function tablesOf(rows: CatalogRow[]): SessionSchema['tables'] {
  const tables = new Map<string, SessionSchema['tables'][number]>();
  for (const row of rows) {
    const id = `${row.schema}.${row.name}`;
    let table = tables.get(id);
    if (!table) {
      table = { schema: row.schema, name: row.name, kind: RELATION_KINDS[row.kind] ?? row.kind, columns: [] };
      tables.set(id, table);
    }
    if (row.column !== null) table.columns.push({ name: row.column, type: row.type ?? '' });
  }
  return [...tables.values()];
}

/**
 * Tables and columns of the session's instance, read on a short-lived admin
 * connection (never the learner's, which may be busy or inside an aborted
 * transaction). Only a session with an open connection is asked: completion
 * never resumes a suspended instance. Committed objects only.
 */
export async function sessionSchema(
  deps: Pick<RunnerDeps, 'pool' | 'connections'>,
  ownerId: string,
  sessionId: string,
): Promise<SessionSchema> {
  const session = await selectSession(deps.pool, sessionId);
  if (!session || session.ownerId !== ownerId)
    throw new NotFoundError('SQL_RUNNER_SESSION_NOT_FOUND', 'No such session.');
  const open = session.instanceId ? deps.connections.get(session.id, session.instanceId) : undefined;
  if (!open) return { tables: [] };
  const { instance } = open;
  const client = new pg.Client({
    host: instance.host,
    port: instance.port,
    database: instance.database,
    user: instance.admin.user,
    password: instance.admin.password,
    application_name: 'taidon-runner',
    connectionTimeoutMillis: 5_000,
    statement_timeout: 5_000,
  });
  client.on('error', () => {}); // a server going away fails the query below, never the process
  await client.connect();
  try {
    const { rows } = await client.query<CatalogRow>(CATALOG_SQL);
    return { tables: tablesOf(rows) };
  } finally {
    await client.end().catch(() => {});
  }
}
