import type pg from 'pg';
import { sessionStateUpdate } from './sessions.js';

/** Records the start of a run. */
export async function insertRun(pool: pg.Pool, run: { id: string; sessionId: string; ownerId: string }): Promise<void> {
  await pool.query('INSERT INTO runs (id, session_id, owner_id) VALUES ($1, $2, $3)', [
    run.id,
    run.sessionId,
    run.ownerId,
  ]);
}

/**
 * Records how a run ended; with `session`, in the same statement, which instance serves that session and
 * the key it is at now (one round trip at the end of a run instead of two). The run gives back its instance
 * slot, unless `keepSlot`: it keeps it until releaseSlot (the instance it replaced is still being deleted).
 */
export async function finishRun(
  pool: pg.Pool,
  id: string,
  result: {
    outcome: 'ok' | 'error' | 'cancelled' | 'failed';
    source: string | null;
    layerKey: string | null;
    stepsReplayed: number;
    errorSqlstate: string | null;
    timings: Record<string, number>;
  },
  session?: { id: string; instanceId: string | null; currentKey: string | null },
  keepSlot = false,
): Promise<void> {
  const values: unknown[] = [
    id,
    result.outcome,
    result.source,
    result.layerKey,
    result.stepsReplayed,
    result.errorSqlstate,
    result.timings,
    keepSlot,
  ];
  const withSession = session ? `WITH session AS (${sessionStateUpdate(9)}) ` : '';
  if (session) values.push(session.id, session.instanceId, session.currentKey);
  await pool.query(
    `${withSession}UPDATE runs SET finished_at = now(), outcome = $2, source = $3, layer_key = $4, steps_replayed = $5,
            error_sqlstate = $6, timings = $7, holds_slot = holds_slot AND $8 WHERE id = $1`,
    values,
  );
}

/** Gives back the instance slot a finished run kept (see finishRun's `keepSlot`). */
export async function releaseSlot(pool: pg.Pool, id: string): Promise<void> {
  await pool.query('UPDATE runs SET holds_slot = false WHERE id = $1 AND holds_slot', [id]);
}
