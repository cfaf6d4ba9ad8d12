import { fileURLToPath } from 'node:url';
import { migrate } from '@taidon/kit';
import type pg from 'pg';

/** Directory of snapshot-cache's forward-only SQL migrations. */
export const SNAPSHOT_CACHE_MIGRATIONS_DIR = fileURLToPath(new URL('../migrations', import.meta.url));

/** Applies snapshot-cache's pending migrations to its schema (the connection's search_path). */
export function migrateSnapshotCache(pool: pg.Pool): Promise<string[]> {
  return migrate(pool, SNAPSHOT_CACHE_MIGRATIONS_DIR);
}
