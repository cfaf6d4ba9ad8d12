import { fileURLToPath } from 'node:url';
import { migrate } from '@taidon/kit';
import type pg from 'pg';

/** Directory of the exercises service's forward-only SQL migrations. */
export const EXERCISES_MIGRATIONS_DIR = fileURLToPath(new URL('../migrations', import.meta.url));

/** Applies the exercises service's pending migrations to its schema. */
export function migrateExercises(pool: pg.Pool): Promise<string[]> {
  return migrate(pool, EXERCISES_MIGRATIONS_DIR);
}
