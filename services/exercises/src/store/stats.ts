import { type AttemptCheck, type ExerciseStats, MAX_WRONG_ANSWER_GROUPS } from '@taidon/contracts';
import type pg from 'pg';

/**
 * The instructors' view of one exercise: attempts, distinct learners, how many solved it, and the most
 * common wrong results, grouped by the digest of what they returned on every dataset (attempts recorded
 * before digests were kept are counted, not grouped), each with its first answer as the example.
 */
export async function exerciseStats(pool: pg.Pool, id: string): Promise<ExerciseStats> {
  const { rows: totals } = await pool.query<{ attempts: number; learners: number; solved: number }>(
    `SELECT count(*)::int AS attempts, count(DISTINCT account_id)::int AS learners,
            count(DISTINCT account_id) FILTER (WHERE passed)::int AS solved
       FROM attempts WHERE exercise_id = $1`,
    [id],
  );
  const { rows: groups } = await pool.query<{
    digest: string;
    attempts: number;
    learners: number;
    last_at: Date;
    sql: string;
    checks: AttemptCheck[];
  }>(
    `SELECT g.digest, g.attempts, g.learners, g.last_at, a.sql, a.checks
       FROM (SELECT verdict_digest AS digest, count(*)::int AS attempts, count(DISTINCT account_id)::int AS learners,
                    max(at) AS last_at, (array_agg(id ORDER BY at, id))[1] AS example
               FROM attempts
              WHERE exercise_id = $1 AND NOT passed AND verdict_digest IS NOT NULL
              GROUP BY verdict_digest
              ORDER BY count(*) DESC, max(at) DESC
              LIMIT $2) g
       JOIN attempts a ON a.id = g.example
      ORDER BY g.attempts DESC, g.last_at DESC`,
    [id, MAX_WRONG_ANSWER_GROUPS],
  );
  const { attempts = 0, learners = 0, solved = 0 } = totals[0] ?? {};
  return {
    id,
    attempts,
    learners,
    solved,
    solveRate: learners === 0 ? 0 : solved / learners,
    wrongAnswers: groups.map((g) => ({
      digest: g.digest,
      attempts: g.attempts,
      learners: g.learners,
      lastAt: g.last_at.toISOString(),
      example: { sql: g.sql, checks: g.checks },
    })),
  };
}
