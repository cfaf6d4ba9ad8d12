import { fileURLToPath } from 'node:url';
import { migrate } from '@taidon/kit';
import type pg from 'pg';

/** Directory of audit-log's forward-only SQL migrations. */
export const AUDIT_LOG_MIGRATIONS_DIR = fileURLToPath(new URL('../migrations', import.meta.url));

/** Applies audit-log's pending migrations to its schema (as the service role; seal afterwards). */
export function migrateAuditLog(pool: pg.Pool): Promise<string[]> {
  return migrate(pool, AUDIT_LOG_MIGRATIONS_DIR);
}
