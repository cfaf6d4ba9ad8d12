import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { type AuditSink, createAuditSink, createPool } from '@taidon/kit';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { buildApp } from './app.js';
import { userProfileQuotas } from './clients/user-profile.js';
import type { VcsSyncConfig } from './config.js';
import { migrateVcsSync } from './migrate.js';

/** vcs-sync built and ready to listen; close() stops the app (and its audit sink), then ends its pool. */
export interface StartedVcsSync {
  app: FastifyInstance;
  close(): Promise<void>;
}

/** Deadline of one call to user-profile for a quota. */
const QUOTA_CALL_TIMEOUT_MS = 5_000;

/**
 * Builds the whole of vcs-sync from its validated config: pool, migrations,
 * the projects directory, the user-profile client, the audit sink
 * (AUDIT_LOG_URL), app. The one way it is started: by its server.ts, by the
 * local launcher and by tests.
 */
export async function startVcsSync(config: VcsSyncConfig, options: { logger: Logger }): Promise<StartedVcsSync> {
  const pool = createPool(config.VCS_SYNC_DATABASE_URL, { applicationName: 'taidon-vcs-sync' });
  let audit: AuditSink | undefined;
  let app: FastifyInstance;
  try {
    await migrateVcsSync(pool);
    const projectsDir = resolve(config.VCS_SYNC_DATA_DIR);
    await mkdir(projectsDir, { recursive: true, mode: 0o700 });
    audit = config.AUDIT_LOG_URL
      ? await createAuditSink({
          url: config.AUDIT_LOG_URL,
          serviceToken: config.SERVICE_TOKEN,
          outboxFile: config.AUDIT_OUTBOX_FILE,
          logger: options.logger,
        })
      : undefined;
    const quotas = userProfileQuotas({
      name: 'user-profile',
      baseUrl: config.USER_PROFILE_URL,
      serviceToken: config.SERVICE_TOKEN,
      timeoutMs: QUOTA_CALL_TIMEOUT_MS,
    });
    app = buildApp({ config, pool, logger: options.logger, projectsDir, quotas, ...(audit ? { audit } : {}) });
  } catch (error) {
    await audit?.close().catch(() => {});
    await pool.end().catch(() => {});
    throw error;
  }
  const built = app;
  return {
    app: built,
    close: async () => {
      await built.close();
      await pool.end();
    },
  };
}
