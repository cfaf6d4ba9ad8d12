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
   * How many other sessions of the owner point at an instance not known to be gone: at least the instances
   * the owner holds through sessions (see markInstancesGone). Undefined when the row was read again after a
   * concurrent insert.
   */
  otherInstances?: number;
  /** The database's clock when the session was opened; undefined when otherInstances is. */
  openedAt?: Date;
  /** Whether this call inserted the row (a new session). */
  created?: boolean;
}

/**
 * The session `id`, created for `ownerId` (no instance yet) when it does not
 * exist, in one round trip; an existing row, whoever owns it, is answered as it is.
 */
export async function openOrCreateSession(pool: pg.Pool, id: string, ownerId: string): Promise<OpenedSession> {
  // The statement's snapshot does not see its own insert, so exactly one branch answers.
  const { rows } = await pool.query<Raw & { other_instances: number; opened_at: Date; created: boolean }>(
    `WITH inserted AS (
       INSERT INTO sessions (id, owner_id) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING
       RETURNING id, owner_id, instance_id, current_key),
     found AS (
       SELECT *, true AS created FROM inserted
       UNION ALL
       SELECT id, owner_id, instance_id, current_key, false FROM sessions
        WHERE id = $1 AND NOT EXISTS (SELECT FROM inserted))
     SELECT found.*,
            (SELECT count(*)::int FROM sessions s
              WHERE s.owner_id = found.owner_id AND s.id <> found.id AND s.instance_id IS NOT NULL
                AND NOT s.instance_gone) AS other_instances,
            now() AS opened_at
       FROM found`,
    [id, ownerId],
  );
  const first = rows[0];
  if (first) {
    return {
      ...toRow(first),
      otherInstances: first.other_instances,
      openedAt: first.opened_at,
      created: first.created,
    };
  }
  // A concurrent insert of the same id committed after this statement's snapshot: read it now.
  const row = await selectSession(pool, id);
  if (!row) throw new Error('session vanished after insert');
  return row;
}

/** Deletes a session this request created, before any run or instance used it. */
export async function deleteNewSession(pool: pg.Pool, id: string): Promise<void> {
  await pool.query('DELETE FROM sessions WHERE id = $1 AND instance_id IS NULL', [id]);
}

/**
 * The statement that records which instance serves a session and the key it is at, with its parameters at
 * `$first` (session id), `$first + 1` (instance id) and `$first + 2` (key): alone, or inside another statement.
 */
export function sessionStateUpdate(first: number): string {
  return `UPDATE sessions SET instance_id = $${first + 1}, current_key = $${first + 2}, instance_gone = false,
                          updated_at = now() WHERE id = $${first}`;
}

/** Records which instance serves the session and the key it is at. */
export async function updateSessionState(
  pool: pg.Pool,
  id: string,
  state: { instanceId: string | null; currentKey: string | null },
): Promise<void> {
  await pool.query(sessionStateUpdate(1), [id, state.instanceId, state.currentKey]);
}

/**
 * Marks the sessions of `ownerId` whose instance is not in `live` (every instance env-manager listed for the
 * owner) as pointing at a gone instance. A session updated after `listedAt` is left alone: its instance may
 * be newer than the list. The session keeps its instance id, so its next run still says its instance is gone.
 */
export async function markInstancesGone(pool: pg.Pool, ownerId: string, live: string[], listedAt: Date): Promise<void> {
  await pool.query(
    `UPDATE sessions SET instance_gone = true
      WHERE owner_id = $1 AND instance_id IS NOT NULL AND NOT instance_gone
        AND instance_id <> ALL($2::uuid[]) AND updated_at < $3`,
    [ownerId, live, listedAt],
  );
}

/** Marks the sessions of `ownerId` pointing at `instanceIds` (just deleted) as pointing at a gone instance. */
export async function markEvictedInstances(pool: pg.Pool, ownerId: string, instanceIds: string[]): Promise<void> {
  await pool.query('UPDATE sessions SET instance_gone = true WHERE owner_id = $1 AND instance_id = ANY($2::uuid[])', [
    ownerId,
    instanceIds,
  ]);
}
