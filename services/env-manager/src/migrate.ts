import { fileURLToPath } from 'node:url';
import { migrate } from '@taidon/kit';
import type pg from 'pg';

/** Directory of env-manager's forward-only SQL migrations. */
export const ENV_MANAGER_MIGRATIONS_DIR = fileURLToPath(new URL('../migrations', import.meta.url));

/** Applies env-manager's pending migrations to its schema. */
export function migrateEnvManager(pool: pg.Pool): Promise<string[]> {
  return migrate(pool, ENV_MANAGER_MIGRATIONS_DIR);
}
