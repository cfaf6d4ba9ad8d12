import type { AuthoredExercise, UpdateExerciseRequest } from '@taidon/contracts';
import type pg from 'pg';
import { exerciseKind } from '../domain/authoring.js';
import { selectExercise } from './exercises.js';
import { inSlugTransaction, insertDatasets } from './slug-transaction.js';

/**
 * Replaces an exercise's authored content and datasets in one transaction (`PUT`), keeping its id, author,
 * status and publications: a published exercise keeps serving its current publication until it is
 * published again. A slug another exercise has is 409 EXERCISES_SLUG_TAKEN; undefined when there is no such
 * exercise (any more).
 */
export async function updateExercise(
  pool: pg.Pool,
  id: string,
  body: UpdateExerciseRequest,
): Promise<AuthoredExercise | undefined> {
  const found = await inSlugTransaction(pool, body.slug, async (client) => {
    const { rowCount } = await client.query(
      `UPDATE exercises SET slug = $2, title = $3, task_md = $4, setup_sql = $5, solution = $6, compare = $7,
              min_kill_score = $8, equivalent_mutants = $9, kind = $10, updated_at = now()
        WHERE id = $1`,
      [
        id,
        body.slug,
        body.title,
        body.task,
        body.setup.sql,
        body.solution,
        JSON.stringify(body.compare ?? {}),
        body.minKillScore ?? 0,
        body.equivalentMutants ?? [],
        exerciseKind(body),
      ],
    );
    // No such exercise: nothing was written, the transaction commits nothing.
    if (rowCount === 0) return false;
    await client.query('DELETE FROM exercise_datasets WHERE exercise_id = $1', [id]);
    await insertDatasets(client, id, body.datasets ?? []);
    return true;
  });
  return found ? selectExercise(pool, id) : undefined;
}
