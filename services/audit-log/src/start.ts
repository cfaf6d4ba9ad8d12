import { createPool } from '@taidon/kit';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { buildApp } from './app.js';
import type { AuditLogConfig } from './config.js';
import { migrateAuditLog } from './migrate.js';
import { sealAuditLog } from './seal.js';

/** audit-log built and ready to listen; close() stops the app, then ends its pool. */
export interface StartedAuditLog {
  app: FastifyInstance;
  close(): Promise<void>;
}

/**
 * Builds the whole of audit-log from its validated config: pool, migrations,
 * the seal (table owned by a NOLOGIN role, with AUDIT_LOG_SUPERUSER_URL), app.
 * The one way it is started: by its server.ts, by the local launcher and by tests.
 */
export async function startAuditLog(config: AuditLogConfig, options: { logger: Logger }): Promise<StartedAuditLog> {
  const pool = createPool(config.AUDIT_LOG_DATABASE_URL, { applicationName: 'taidon-audit-log' });
  try {
    await migrateAuditLog(pool);
    if (config.AUDIT_LOG_SUPERUSER_URL) {
      const role = decodeURIComponent(new URL(config.AUDIT_LOG_DATABASE_URL).username);
      await sealAuditLog(config.AUDIT_LOG_SUPERUSER_URL, { role, schema: 'audit_log' });
    }
  } catch (error) {
    await pool.end().catch(() => {});
    throw error;
  }
  const app = buildApp({ config, pool, logger: options.logger });
  return {
    app,
    close: async () => {
      await app.close();
      await pool.end();
    },
  };
}
