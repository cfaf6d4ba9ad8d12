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
