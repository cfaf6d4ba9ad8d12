import { fileURLToPath } from 'node:url';
import { migrate } from '@taidon/kit';
import type pg from 'pg';

/** Directory of user-profile's forward-only SQL migrations. */
export const USER_PROFILE_MIGRATIONS_DIR = fileURLToPath(new URL('../migrations', import.meta.url));

/** Applies user-profile's pending migrations to its schema. */
export function migrateUserProfile(pool: pg.Pool): Promise<string[]> {
  return migrate(pool, USER_PROFILE_MIGRATIONS_DIR);
}
