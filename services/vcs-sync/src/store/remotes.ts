import type pg from 'pg';

/** A project's remote as stored: the token still sealed. */
export interface RemoteRow {
  projectId: string;
  url: string;
  branch: string;
  tokenSealed: Buffer | null;
  updatedAt: string;
}

type Queryable = Pick<pg.Pool, 'query'>;

interface Raw {
  project_id: string;
  url: string;
  branch: string;
  token_sealed: Buffer | null;
  updated_at: Date;
}

/** The project's remote, or undefined when it has none. */
export async function findRemote(client: Queryable, projectId: string): Promise<RemoteRow | undefined> {
  const { rows } = await client.query<Raw>(
    'SELECT project_id, url, branch, token_sealed, updated_at FROM project_remotes WHERE project_id = $1',
    [projectId],
  );
  const row = rows[0];
  return row
    ? {
        projectId: row.project_id,
        url: row.url,
        branch: row.branch,
        tokenSealed: row.token_sealed,
        updatedAt: row.updated_at.toISOString(),
      }
    : undefined;
}

/** Sets (or replaces) the project's remote; a null token removes any token kept before. */
export async function upsertRemote(
  client: Queryable,
  remote: { projectId: string; url: string; branch: string; tokenSealed: Buffer | null },
): Promise<string> {
  const { rows } = await client.query<{ updated_at: Date }>(
    `INSERT INTO project_remotes (project_id, url, branch, token_sealed) VALUES ($1, $2, $3, $4)
     ON CONFLICT (project_id) DO UPDATE SET url = $2, branch = $3, token_sealed = $4, updated_at = now()
     RETURNING updated_at`,
    [remote.projectId, remote.url, remote.branch, remote.tokenSealed],
  );
  return (rows[0] as { updated_at: Date }).updated_at.toISOString();
}
