import type pg from 'pg';

/**
 * Takes a published exercise back to a draft: learners no longer see or attempt it. Its publications (and
 * the attempts made against them) stay; publishing again makes the next version. Answers whether it was
 * published.
 */
export async function unpublish(pool: pg.Pool, exerciseId: string): Promise<boolean> {
  const { rowCount } = await pool.query(
    `UPDATE exercises SET status = 'draft', published_at = NULL WHERE id = $1 AND status = 'published'`,
    [exerciseId],
  );
  return (rowCount ?? 0) > 0;
}

/** Where an exercise's publication stands: its status and the version of its latest publication (0: none). */
export interface PublicationVersion {
  status: 'draft' | 'published';
  version: number;
}

export async function publicationVersion(pool: pg.Pool, exerciseId: string): Promise<PublicationVersion | undefined> {
  const { rows } = await pool.query<PublicationVersion>(
    `SELECT e.status, coalesce((SELECT max(p.version) FROM publications p WHERE p.exercise_id = e.id), 0)::int AS version
       FROM exercises e WHERE e.id = $1`,
    [exerciseId],
  );
  return rows[0];
}

/** How long a publish or an unpublish waits for another one of the same exercise to end. */
const PUBLICATION_LOCK_TIMEOUT = '60s';

/**
 * Runs `fn` holding the exercise's publication lock (a session advisory lock, so it is one across replicas):
 * a publish (its row, then its layers held) and an unpublish (its row, then its layers let go) of one exercise
 * never interleave, so an unpublish never leaves layers held, nor a publish's hold undo an unpublish. A wait
 * past PUBLICATION_LOCK_TIMEOUT fails with PostgreSQL's lock_not_available.
 */
export async function withPublicationLock<T>(pool: pg.Pool, exerciseId: string, fn: () => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let locked = false;
  try {
    await client.query(`SET lock_timeout = '${PUBLICATION_LOCK_TIMEOUT}'`);
    await client.query(`SELECT pg_advisory_lock(hashtextextended('exercise-publication:' || $1, 0))`, [exerciseId]);
    locked = true;
    return await fn();
  } finally {
    if (locked) {
      await client
        .query(`SELECT pg_advisory_unlock(hashtextextended('exercise-publication:' || $1, 0))`, [exerciseId])
        .catch(() => {});
    }
    await client.query('RESET lock_timeout').catch(() => {});
    client.release();
  }
}
