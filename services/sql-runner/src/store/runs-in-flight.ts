import type pg from 'pg';

/** How long an unfinished run counts as in flight; older ones died with their process and never finished. */
const IN_FLIGHT_HORIZON = '1 hour';

/** Sessions of `ownerId` with a run in progress (on any replica). */
export async function sessionsWithRunsInFlight(pool: pg.Pool, ownerId: string): Promise<Set<string>> {
  const { rows } = await pool.query<{ session_id: string }>(
    `SELECT DISTINCT session_id FROM runs
      WHERE owner_id = $1 AND finished_at IS NULL AND started_at > now() - $2::interval`,
    [ownerId, IN_FLIGHT_HORIZON],
  );
  return new Set(rows.map((r) => r.session_id));
}
