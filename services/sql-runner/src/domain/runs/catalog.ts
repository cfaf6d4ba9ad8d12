import type { SessionSchema } from '@taidon/contracts';
import { NotFoundError } from '@taidon/kit';
import pg from 'pg';
import { selectSession } from '../../store/sessions.js';
import {
  CATALOG_CAPS,
  COLUMNS_SQL,
  type ColumnRow,
  INDEXES_SQL,
  type IndexRow,
  KEYS_SQL,
  type KeyRow,
  RELATIONS_SQL,
  type RelationRow,
  SCHEMAS_SQL,
} from './catalog-sql.js';
import type { RunnerDeps } from './context.js';

const RELATION_KINDS: Record<string, string> = {
  r: 'table',
  p: 'partitioned table',
  v: 'view',
  m: 'materialized view',
  f: 'foreign table',
};
const KEY_KINDS = { p: 'primary', u: 'unique', f: 'foreign' } as const;

/** What the catalog queries answered, each list possibly one row past its cap. */
export interface CatalogRows {
  schemas: { name: string }[];
  relations: RelationRow[];
  columns: ColumnRow[];
  keys: KeyRow[];
  indexes: IndexRow[];
}

/** Assembles catalog rows into the answer: tables with their columns, keys and indexes, capped, in catalog order. */
export function schemaOf(rows: CatalogRows): SessionSchema {
  const over = (list: unknown[], cap: number) => list.length > cap;
  const truncated =
    over(rows.schemas, CATALOG_CAPS.schemas) ||
    over(rows.relations, CATALOG_CAPS.relations) ||
    over(rows.columns, CATALOG_CAPS.columns) ||
    over(rows.keys, CATALOG_CAPS.keys) ||
    over(rows.indexes, CATALOG_CAPS.indexes);
  const tables = new Map<string, SessionSchema['tables'][number]>();
  for (const r of rows.relations.slice(0, CATALOG_CAPS.relations)) {
    tables.set(r.oid, {
      schema: r.schema,
      name: r.name,
      kind: RELATION_KINDS[r.kind] ?? r.kind,
      rowEstimate: r.estimate,
      columns: [],
      keys: [],
      indexes: [],
    });
  }
  for (const c of rows.columns.slice(0, CATALOG_CAPS.columns)) {
    tables.get(c.oid)?.columns.push({ name: c.name, type: c.type, nullable: c.nullable });
  }
  for (const k of rows.keys.slice(0, CATALOG_CAPS.keys)) {
    const key: SessionSchema['tables'][number]['keys'][number] = {
      name: k.name,
      kind: KEY_KINDS[k.kind],
      columns: k.columns,
    };
    if (k.kind === 'f' && k.ref_schema !== null && k.ref_table !== null) {
      key.references = { schema: k.ref_schema, table: k.ref_table, columns: k.ref_columns ?? [] };
    }
    tables.get(k.oid)?.keys.push(key);
  }
  for (const i of rows.indexes.slice(0, CATALOG_CAPS.indexes)) {
    tables.get(i.oid)?.indexes.push({ name: i.name, unique: i.unique, definition: i.definition });
  }
  return {
    schemas: rows.schemas.slice(0, CATALOG_CAPS.schemas).map((s) => s.name),
    tables: [...tables.values()],
    truncated,
  };
}

/** Reads the catalog of the instance `client` is connected to (one statement each, all capped). */
export async function readCatalog(client: pg.Client): Promise<SessionSchema> {
  const schemas = (await client.query<{ name: string }>(SCHEMAS_SQL)).rows;
  const relations = (await client.query<RelationRow>(RELATIONS_SQL)).rows;
  const oids = relations.slice(0, CATALOG_CAPS.relations).map((r) => r.oid);
  const columns = (await client.query<ColumnRow>(COLUMNS_SQL, [oids])).rows;
  const keys = (await client.query<KeyRow>(KEYS_SQL, [oids])).rows;
  const indexes = (await client.query<IndexRow>(INDEXES_SQL, [oids])).rows;
  return schemaOf({ schemas, relations, columns, keys, indexes });
}

/**
 * The schemas, tables, columns, keys, indexes and row estimates of the
 * session's instance, read on a short-lived admin connection (never the
 * learner's, which may be busy or inside an aborted transaction). Only a
 * session with an open connection is asked: the editor never resumes a
 * suspended instance for this. Committed objects only.
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
  if (!open) return { schemas: [], tables: [], truncated: false };
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
    // One snapshot for the five reads, so a table and its columns come from the same moment.
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    return await readCatalog(client);
  } finally {
    await client.end().catch(() => {});
  }
}
