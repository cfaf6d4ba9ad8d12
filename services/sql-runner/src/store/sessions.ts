import type pg from 'pg';

/** A learner session as sql-runner keeps it. */
export interface SessionRow {
  id: string;
  ownerId: string;
  instanceId: string | null;
  currentKey: string | null;
}

interface Raw {
  id: string;
  owner_id: string;
  instance_id: string | null;
  current_key: string | null;
}

const toRow = (r: Raw): SessionRow => ({
  id: r.id,
  ownerId: r.owner_id,
  instanceId: r.instance_id,
  currentKey: r.current_key,
});

/** The session `id` if it exists (whoever owns it). */
export async function selectSession(pool: pg.Pool, id: string): Promise<SessionRow | undefined> {
  const { rows } = await pool.query<Raw>('SELECT id, owner_id, instance_id, current_key FROM sessions WHERE id = $1', [
    id,
  ]);
  return rows[0] ? toRow(rows[0]) : undefined;
}

/** A session as a run opens it, with a hint for the instance quota. */
export interface OpenedSession extends SessionRow {
  /**
   * How many other sessions of the owner point at an instance: at least the instances the owner holds
   * through this runner's sessions (a session keeps pointing at an instance deleted since). Undefined when
   * the row was read again after a concurrent insert.
   */
  otherInstances?: number;
}

/**
 * The session `id`, created for `ownerId` (no instance yet) when it does not
 * exist, in one round trip; an existing row, whoever owns it, is answered as it is.
 */
export async function openOrCreateSession(pool: pg.Pool, id: string, ownerId: string): Promise<OpenedSession> {
  // The statement's snapshot does not see its own insert, so exactly one branch answers.
  const { rows } = await pool.query<Raw & { other_instances: number }>(
    `WITH inserted AS (
       INSERT INTO sessions (id, owner_id) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING
       RETURNING id, owner_id, instance_id, current_key),
     found AS (
       SELECT * FROM inserted
       UNION ALL
       SELECT id, owner_id, instance_id, current_key FROM sessions WHERE id = $1 AND NOT EXISTS (SELECT FROM inserted))
     SELECT found.*,
            (SELECT count(*)::int FROM sessions s
              WHERE s.owner_id = found.owner_id AND s.id <> found.id AND s.instance_id IS NOT NULL) AS other_instances
       FROM found`,
    [id, ownerId],
  );
  const first = rows[0];
  if (first) return { ...toRow(first), otherInstances: first.other_instances };
  // A concurrent insert of the same id committed after this statement's snapshot: read it now.
  const row = await selectSession(pool, id);
  if (!row) throw new Error('session vanished after insert');
  return row;
}

/** Records which instance serves the session and the key it is at. */
export async function updateSessionState(
  pool: pg.Pool,
  id: string,
  state: { instanceId: string | null; currentKey: string | null },
): Promise<void> {
  await pool.query('UPDATE sessions SET instance_id = $2, current_key = $3, updated_at = now() WHERE id = $1', [
    id,
    state.instanceId,
    state.currentKey,
  ]);
}
