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

/** A session as a run opens it. */
export interface OpenedSession extends SessionRow {
  /** Whether this call inserted the row (a new session). */
  created?: boolean;
}

/**
 * The session `id`, created for `ownerId` (no instance yet) when it does not
 * exist, in one round trip; an existing row, whoever owns it, is answered as it is.
 */
export async function openOrCreateSession(pool: pg.Pool, id: string, ownerId: string): Promise<OpenedSession> {
  // The statement's snapshot does not see its own insert, so exactly one branch answers.
  const { rows } = await pool.query<Raw & { created: boolean }>(
    `WITH inserted AS (
       INSERT INTO sessions (id, owner_id) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING
       RETURNING id, owner_id, instance_id, current_key)
     SELECT *, true AS created FROM inserted
     UNION ALL
     SELECT id, owner_id, instance_id, current_key, false FROM sessions
      WHERE id = $1 AND NOT EXISTS (SELECT FROM inserted)`,
    [id, ownerId],
  );
  const first = rows[0];
  if (first) return { ...toRow(first), created: first.created };
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
 * `$first` (session id), `$first + 1` (instance id) and `$first + 2` (key), and with `startKey` the layer key
 * the instance was started from at `$first + 3`: alone, or inside another statement.
 */
export function sessionStateUpdate(first: number, startKey = false): string {
  return `UPDATE sessions SET instance_id = $${first + 1}, current_key = $${first + 2},${
    startKey ? ` start_key = $${first + 3},` : ''
  } instance_gone = false, updated_at = now() WHERE id = $${first}`;
}

/**
 * Records which instance serves the session, the key it is at and the layer key the instance was started
 * from (`startKey`: a reset to it needs no new instance, ADR 0029). With `slotOfRun`, that run gives back its
 * instance slot in the same statement: the session's new instance holds the slot from now on, so the
 * account's count of instances never sees both or neither (ADR 0023).
 */
export async function updateSessionState(
  pool: pg.Pool,
  id: string,
  state: { instanceId: string | null; currentKey: string | null; startKey: string | null },
  slotOfRun?: string,
): Promise<void> {
  const values = [id, state.instanceId, state.currentKey, state.startKey];
  const update = sessionStateUpdate(1, true);
  if (!slotOfRun) {
    await pool.query(update, values);
    return;
  }
  await pool.query(`WITH session AS (${update}) UPDATE runs SET holds_slot = false WHERE id = $5`, [
    ...values,
    slotOfRun,
  ]);
}
