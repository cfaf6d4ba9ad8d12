import { type AuditSink, createAuditSink, createPool } from '@taidon/kit';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { buildApp } from './app.js';
import { createSnapshotCacheClient } from './clients/snapshot-cache.js';
import type { EnvManagerConfig } from './config.js';
import { migrateEnvManager } from './migrate.js';
import { cgroupOptions, createLocalRuntime } from './runtimes/local.js';

/** env-manager built and ready to listen; close() stops the app (its loops, its audit sink), then ends its pool. */
export interface StartedEnvManager {
  app: FastifyInstance;
  close(): Promise<void>;
}

export interface StartEnvManagerOptions {
  logger: Logger;
  /**
   * Suspend Running instances and delete pooled ones on close. Off by default: the servers stop with the
   * process anyway (ADR 0024) and the next start takes their instances over.
   */
  stopInstancesOnClose?: boolean;
}

/**
 * Builds the whole of env-manager from its validated config: pool,
 * migrations, the local runtime (its spawner), the snapshot-cache client, the
 * audit sink (AUDIT_LOG_URL), app. The one way it is started: by its
 * server.ts, by the local launcher and by tests, so a standalone env-manager
 * records the same audit events as the all-in-one.
 */
export async function startEnvManager(
  config: EnvManagerConfig,
  options: StartEnvManagerOptions,
): Promise<StartedEnvManager> {
  const { logger } = options;
  const pool = createPool(config.ENV_MANAGER_DATABASE_URL, { applicationName: 'taidon-env-manager' });
  let audit: AuditSink | undefined;
  let app: FastifyInstance;
  try {
    await migrateEnvManager(pool);
    const runtime = await createLocalRuntime({
      runDir: config.INSTANCE_RUN_DIR,
      limits: {
        memoryMaxBytes: config.INSTANCE_MEMORY_MAX_BYTES,
        pidsMax: config.INSTANCE_PIDS_MAX,
        cpuMax: config.INSTANCE_CPU_MAX,
      },
      ...cgroupOptions(config.INSTANCE_CGROUPS),
      logger,
    });
    const snapshotCache = createSnapshotCacheClient({
      baseUrl: config.SNAPSHOT_CACHE_URL,
      serviceToken: config.SERVICE_TOKEN,
    });
    audit = config.AUDIT_LOG_URL
      ? await createAuditSink({
          url: config.AUDIT_LOG_URL,
          serviceToken: config.SERVICE_TOKEN,
          outboxFile: config.AUDIT_OUTBOX_FILE,
          logger,
        })
      : undefined;
    app = buildApp({
      config,
      pool,
      logger,
      snapshotCache,
      runtime,
      ...(options.stopInstancesOnClose ? { stopInstancesOnClose: true } : {}),
      ...(audit ? { audit } : {}),
    });
  } catch (error) {
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
