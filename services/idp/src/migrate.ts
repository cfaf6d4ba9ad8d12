import { fileURLToPath } from 'node:url';
import { migrate } from '@taidon/kit';
import type pg from 'pg';

/** Directory of idp's forward-only SQL migrations. */
export const IDP_MIGRATIONS_DIR = fileURLToPath(new URL('../migrations', import.meta.url));

/** Applies idp's pending migrations to its schema. */
export function migrateIdp(pool: pg.Pool): Promise<string[]> {
  return migrate(pool, IDP_MIGRATIONS_DIR);
}
