import { fileURLToPath } from 'node:url';
import { migrate } from '@taidon/kit';
import type pg from 'pg';

/** Directory of sql-runner's forward-only SQL migrations. */
export const SQL_RUNNER_MIGRATIONS_DIR = fileURLToPath(new URL('../migrations', import.meta.url));

/** Applies sql-runner's pending migrations to its schema. */
export function migrateSqlRunner(pool: pg.Pool): Promise<string[]> {
  return migrate(pool, SQL_RUNNER_MIGRATIONS_DIR);
}
