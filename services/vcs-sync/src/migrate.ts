import { fileURLToPath } from 'node:url';
import { migrate } from '@taidon/kit';
import type pg from 'pg';

/** Directory of vcs-sync's forward-only SQL migrations. */
export const VCS_SYNC_MIGRATIONS_DIR = fileURLToPath(new URL('../migrations', import.meta.url));

/** Applies vcs-sync's pending migrations to its schema. */
export function migrateVcsSync(pool: pg.Pool): Promise<string[]> {
  return migrate(pool, VCS_SYNC_MIGRATIONS_DIR);
}
