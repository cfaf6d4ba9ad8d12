import type pg from 'pg';

/** A project row, camelCased. */
export interface ProjectRow {
  id: string;
  ownerId: string;
  name: string;
  template: string;
  createdAt: string;
  sizeBytes: number;
}

interface Raw {
  id: string;
  owner_id: string;
  name: string;
  template: string;
  created_at: Date;
  size_bytes: string;
}

const COLUMNS = 'id, owner_id, name, template, created_at, size_bytes';

function fromRow(row: Raw): ProjectRow {
  return {
    id: row.id,
    ownerId: row.owner_id,
    name: row.name,
    template: row.template,
    createdAt: row.created_at.toISOString(),
    sizeBytes: Number(row.size_bytes),
  };
}

/** Something that runs queries: the pool, or a client inside a transaction. */
type Queryable = Pick<pg.Pool, 'query'>;

/** Takes the account's project-creation lock until the transaction ends (creations of one account in a row). */
export async function lockOwner(client: Queryable, ownerId: string): Promise<void> {
  await client.query("SELECT pg_advisory_xact_lock(hashtextextended('vcs-sync:' || $1::text, 0))", [ownerId]);
}

export async function countProjects(client: Queryable, ownerId: string): Promise<number> {
  const { rows } = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM projects WHERE owner_id = $1', [
    ownerId,
  ]);
  return rows[0]?.n ?? 0;
}

/** Inserts a project; a name the owner already uses fails with 23505 on `projects_owner_name`. */
export async function insertProject(
  client: Queryable,
  project: { ownerId: string; name: string; template: string },
): Promise<ProjectRow> {
  const { rows } = await client.query<Raw>(
    `INSERT INTO projects (owner_id, name, template) VALUES ($1, $2, $3) RETURNING ${COLUMNS}`,
    [project.ownerId, project.name, project.template],
  );
  return fromRow(rows[0] as Raw);
}

/** The owner's project with this id; undefined for another owner's, so the two cannot be told apart. */
export async function findProject(client: Queryable, ownerId: string, id: string): Promise<ProjectRow | undefined> {
  const { rows } = await client.query<Raw>(`SELECT ${COLUMNS} FROM projects WHERE id = $1 AND owner_id = $2`, [
    id,
    ownerId,
  ]);
  return rows[0] ? fromRow(rows[0]) : undefined;
}

/** The owner's projects, oldest first. */
export async function listProjects(client: Queryable, ownerId: string): Promise<ProjectRow[]> {
  const { rows } = await client.query<Raw>(
    `SELECT ${COLUMNS} FROM projects WHERE owner_id = $1 ORDER BY created_at, id`,
    [ownerId],
  );
  return rows.map(fromRow);
}

/** Bytes the owner's other projects take (the storage quota counts them all). */
export async function otherProjectsBytes(client: Queryable, ownerId: string, exceptId: string): Promise<number> {
  const { rows } = await client.query<{ n: string }>(
    'SELECT coalesce(sum(size_bytes), 0)::bigint AS n FROM projects WHERE owner_id = $1 AND id <> $2',
    [ownerId, exceptId],
  );
  return Number(rows[0]?.n ?? 0);
}

export async function updateSize(client: Queryable, id: string, sizeBytes: number): Promise<void> {
  await client.query('UPDATE projects SET size_bytes = $2 WHERE id = $1', [id, sizeBytes]);
}

export async function deleteProjectRow(client: Queryable, ownerId: string, id: string): Promise<boolean> {
  const { rowCount } = await client.query('DELETE FROM projects WHERE id = $1 AND owner_id = $2', [id, ownerId]);
  return (rowCount ?? 0) > 0;
}
