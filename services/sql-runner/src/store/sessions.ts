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

/**
 * The session `id`, created for `ownerId` (no instance yet) when it does not
 * exist, in one round trip; an existing row, whoever owns it, is answered as it is.
 */
export async function openOrCreateSession(pool: pg.Pool, id: string, ownerId: string): Promise<SessionRow> {
  // The statement's snapshot does not see its own insert, so exactly one branch answers.
  const { rows } = await pool.query<Raw>(
    `WITH inserted AS (
       INSERT INTO sessions (id, owner_id) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING
       RETURNING id, owner_id, instance_id, current_key)
     SELECT * FROM inserted
     UNION ALL
     SELECT id, owner_id, instance_id, current_key FROM sessions WHERE id = $1 AND NOT EXISTS (SELECT FROM inserted)`,
    [id, ownerId],
  );
  // A concurrent insert of the same id committed after this statement's snapshot: read it now.
  const row = rows[0] ? toRow(rows[0]) : await selectSession(pool, id);
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
