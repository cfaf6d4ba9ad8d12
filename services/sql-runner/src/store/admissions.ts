import type pg from 'pg';

/** Which quota refused a run, or that it was admitted (see admit_run, migration 004). */
export type AdmissionVerdict = 'admitted' | 'run-rate' | 'open-runs' | 'instances';

/** Sessions whose instances must be deleted before the run starts one (the slot it took was theirs). */
export interface Reclaimed {
  /** Sessions reclaimed: their instances are gone as far as the quota counts. */
  sessions: string[];
  /** The live instances of those sessions, to delete by id. */
  instances: string[];
  /** Those of the sessions that a dead run may have left an instance on that no row names: deleted by session. */
  sweep: string[];
}

/** What admit_run answered. */
export interface Admission {
  verdict: AdmissionVerdict;
  /** Seconds until the refused run may be tried again. */
  retryAfterSeconds: number;
  /** The count the refusal is about: runs in the window, runs open, or instance slots in use. */
  held: number;
  /** Whether the admitted run holds an instance slot (it may start an instance). */
  holdsSlot: boolean;
  reclaimed: Reclaimed;
}

/** The account limits one admission enforces; null is not enforced. */
export interface AdmissionLimits {
  instances: number | null;
  runsPerMinute: number | null;
  maxOpenRuns: number | null;
  leaseSeconds: number;
}

interface RawSlot {
  held: number;
  victim_sessions: string[];
  victim_instances: string[];
  sweep_sessions: string[];
}

const reclaimedOf = (raw: RawSlot): Reclaimed => ({
  sessions: raw.victim_sessions,
  instances: raw.victim_instances,
  sweep: raw.sweep_sessions,
});

/**
 * Admits run `run.id` of `run.ownerId` on session `run.sessionId` (which exists) in one statement, under the
 * account's row lock: the run is recorded (and leased) only when no quota refuses it. `tailKey` is the key
 * of the state the run starts from, null for a head alone (which continues its session's instance).
 * `runnerKey` is the advisory lock this process holds while it lives (RunnerLock), null when it holds none.
 */
export async function admitRun(
  pool: pg.Pool,
  run: { id: string; ownerId: string; sessionId: string; tailKey: string | null },
  limits: AdmissionLimits,
  runnerKey: string | null = null,
): Promise<Admission> {
  const { rows } = await pool.query<
    RawSlot & { verdict: AdmissionVerdict; retry_after_seconds: number; holds_slot: boolean }
  >('SELECT * FROM admit_run($1, $2, $3, $4, $5, $6, $7, $8, $9)', [
    run.id,
    run.ownerId,
    run.sessionId,
    run.tailKey,
    limits.instances,
    limits.runsPerMinute,
    limits.maxOpenRuns,
    limits.leaseSeconds,
    runnerKey,
  ]);
  const row = rows[0];
  if (!row) throw new Error('admit_run answered no row');
  return {
    verdict: row.verdict,
    retryAfterSeconds: row.retry_after_seconds,
    held: row.held,
    holdsSlot: row.holds_slot,
    reclaimed: reclaimedOf(row),
  };
}

/** Takes an instance slot for an admitted run that needs an instance after all; undefined when refused. */
export async function claimInstanceSlot(
  pool: pg.Pool,
  runId: string,
  instances: number,
): Promise<{ granted: boolean; held: number; reclaimed: Reclaimed }> {
  const { rows } = await pool.query<RawSlot & { granted: boolean }>('SELECT * FROM claim_instance_slot($1, $2)', [
    runId,
    instances,
  ]);
  const row = rows[0];
  if (!row) throw new Error('claim_instance_slot answered no row');
  return { granted: row.granted, held: row.held, reclaimed: reclaimedOf(row) };
}

/** Extends the leases of this process's open runs, and of finished ones still holding a slot, by `leaseSeconds`. */
export async function renewLeases(pool: pg.Pool, runIds: string[], leaseSeconds: number): Promise<void> {
  await pool.query(
    `UPDATE runs SET lease_until = now() + $2 * interval '1 second'
      WHERE id = ANY($1::uuid[]) AND (finished_at IS NULL OR holds_slot)`,
    [runIds, leaseSeconds],
  );
}

/** Ends an admitted run that never started (its stream failed before it): its slot and open run are given back. */
export async function abandonRun(pool: pg.Pool, runId: string): Promise<void> {
  await pool.query(
    `UPDATE runs SET finished_at = now(), outcome = 'failed', holds_slot = false WHERE id = $1 AND finished_at IS NULL`,
    [runId],
  );
}

/**
 * Counts again the instances an admission marked gone for reclaim but that
 * could not be deleted: they still run, so they hold their account's slots
 * until a later reclaim deletes them. Only sessions still on that instance.
 */
export async function unmarkReclaimed(pool: pg.Pool, instanceIds: string[]): Promise<void> {
  await pool.query('UPDATE sessions SET instance_gone = false WHERE instance_id = ANY($1::uuid[]) AND instance_gone', [
    instanceIds,
  ]);
}

/** Runs `ownerId` started in the last minute, on every replica (the run-rate window). */
export async function runsLastMinute(pool: pg.Pool, ownerId: string): Promise<number> {
  const { rows } = await pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM runs WHERE owner_id = $1 AND started_at > now() - interval '1 minute'`,
    [ownerId],
  );
  return rows[0]?.n ?? 0;
}
