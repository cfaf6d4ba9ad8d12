import type pg from 'pg';

/** Failures per key in the last `windowSeconds`, and the age in seconds of the oldest of them. */
export async function countFailures(
  pool: pg.Pool,
  keys: string[],
  windowSeconds: number,
): Promise<Map<string, { count: number; oldestAgeSeconds: number }>> {
  const { rows } = await pool.query<{ key: string; count: string; oldest_age: number }>(
    `SELECT key, count(*) AS count, EXTRACT(EPOCH FROM now() - min(failed_at))::float8 AS oldest_age
       FROM sign_in_failures
      WHERE key = ANY($1) AND failed_at > now() - make_interval(secs => $2)
      GROUP BY key`,
    [keys, windowSeconds],
  );
  return new Map(rows.map((r) => [r.key, { count: Number(r.count), oldestAgeSeconds: r.oldest_age }]));
}

/** Records one failure under each key and drops rows older than the window. */
export async function recordFailure(pool: pg.Pool, keys: string[], windowSeconds: number): Promise<void> {
  await pool.query(
    `WITH gone AS (DELETE FROM sign_in_failures WHERE failed_at < now() - make_interval(secs => $2))
     INSERT INTO sign_in_failures (key) SELECT unnest($1::text[])`,
    [keys, windowSeconds],
  );
}

/** Forgets the failures of `key` (a successful sign-in of that account). */
export async function clearFailures(pool: pg.Pool, key: string): Promise<void> {
  await pool.query('DELETE FROM sign_in_failures WHERE key = $1', [key]);
}
