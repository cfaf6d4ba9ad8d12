import { withTransaction } from '@taidon/kit';
import type pg from 'pg';
import { ExercisesError } from '../errors.js';

/** SQLSTATE of a unique violation: in these tables, a slug taken. */
export const UNIQUE_VIOLATION = '23505';

/**
 * Runs `write` in one transaction on a client of its own and commits what it did: POST and PUT of an
 * exercise. A unique violation is the exercise's slug taken (unique outside packs, and within each pack):
 * 409 EXERCISES_SLUG_TAKEN naming `slug`, nothing stored; any other error is thrown as it is, rolled back.
 */
export async function inSlugTransaction<T>(
  pool: pg.Pool,
  slug: string,
  write: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  return withTransaction(pool, write).catch((error: unknown) => {
    if ((error as { code?: string }).code === UNIQUE_VIOLATION) {
      throw new ExercisesError('EXERCISES_SLUG_TAKEN', `An exercise with the slug ${slug} already exists.`, {
        details: { slug },
      });
    }
    throw error;
  });
}

/** Stores an exercise's hidden datasets in their order (positions from 1), on the transaction's client. */
export async function insertDatasets(
  client: pg.ClientBase,
  exerciseId: string,
  datasets: readonly { name: string; sql: string }[],
): Promise<void> {
  for (const [i, dataset] of datasets.entries()) {
    await client.query('INSERT INTO exercise_datasets (exercise_id, position, name, sql) VALUES ($1, $2, $3, $4)', [
      exerciseId,
      i + 1,
      dataset.name,
      dataset.sql,
    ]);
  }
}
