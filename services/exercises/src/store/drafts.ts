import type { AuthoredExercise, UpdateExerciseRequest } from '@taidon/contracts';
import type pg from 'pg';
import { exerciseKind } from '../domain/authoring.js';
import { ExercisesError } from '../errors.js';
import { selectExercise } from './exercises.js';

/** SQLSTATE of a unique violation: the slug is taken. */
const UNIQUE_VIOLATION = '23505';

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
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
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
    if (rowCount === 0) {
      await client.query('ROLLBACK');
      return undefined;
    }
    await client.query('DELETE FROM exercise_datasets WHERE exercise_id = $1', [id]);
    for (const [i, dataset] of (body.datasets ?? []).entries()) {
      await client.query('INSERT INTO exercise_datasets (exercise_id, position, name, sql) VALUES ($1, $2, $3, $4)', [
        id,
        i + 1,
        dataset.name,
        dataset.sql,
      ]);
    }
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    if ((error as { code?: string }).code === UNIQUE_VIOLATION) {
      throw new ExercisesError('EXERCISES_SLUG_TAKEN', `An exercise with the slug ${body.slug} already exists.`, {
        details: { slug: body.slug },
      });
    }
    throw error;
  } finally {
    client.release();
  }
  return selectExercise(pool, id);
}
