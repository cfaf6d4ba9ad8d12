import { createPool } from '@taidon/kit';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { buildApp } from './app.js';
import { EnvManagerClient } from './clients/env-manager.js';
import type { SqlRunnerConfig } from './config.js';
import { engineIdentity } from './domain/engine-info.js';
import { createRunnerDeps } from './domain/runs/deps.js';
import { migrateSqlRunner } from './migrate.js';

/** sql-runner built and ready to listen; close() stops the app (its loops and warm pool), then ends its pool. */
export interface StartedSqlRunner {
  app: FastifyInstance;
  close(): Promise<void>;
}

/**
 * Builds the whole of sql-runner from its validated config: pool, migrations,
 * the engine identity asked of env-manager (which must answer), the run
 * dependencies and app. The one way it is started.
 */
export async function startSqlRunner(config: SqlRunnerConfig, options: { logger: Logger }): Promise<StartedSqlRunner> {
  const { logger } = options;
  const pool = createPool(config.SQL_RUNNER_DATABASE_URL, { applicationName: 'taidon-sql-runner' });
  let app: FastifyInstance;
  try {
    await migrateSqlRunner(pool);
    const envManager = new EnvManagerClient({
      name: 'env-manager',
      baseUrl: config.ENV_MANAGER_URL,
      serviceToken: config.SERVICE_TOKEN,
      timeoutMs: 10_000,
    });
    app = buildApp({
      config,
      engine: engineIdentity(await envManager.engine()),
      logger,
      runs: createRunnerDeps(config, pool, logger),
      warmPoolEmpty: config.RUN_WARM_POOL_EMPTY,
      ...(config.VCS_SYNC_URL
        ? {
            vcsSync: {
              name: 'vcs-sync',
              baseUrl: config.VCS_SYNC_URL,
              serviceToken: config.SERVICE_TOKEN,
              timeoutMs: 30_000,
            },
          }
        : {}),
      throwaway: {
        maxPerAccount: config.THROWAWAY_MAX_PER_ACCOUNT,
        maxTotal: config.THROWAWAY_MAX,
        useMaxMs: config.THROWAWAY_USE_MAX_MS,
      },
      graderThrowaway: {
        maxPerAccount: config.THROWAWAY_GRADER_MAX_PER_ACCOUNT,
        maxTotal: config.THROWAWAY_GRADER_MAX,
        deleteDelayMs: config.THROWAWAY_GRADER_DELETE_DELAY_MS,
      },
      testsConcurrency: config.TESTS_CONCURRENCY,
      layerHolds: { warmMax: config.THROWAWAY_WARM_MAX, warmPerKeyMax: config.THROWAWAY_WARM_PER_KEY_MAX },
      shares: {
        ttlSeconds: config.SHARE_TTL_SECONDS,
        maxPerAccount: config.SHARE_MAX_PER_ACCOUNT,
        maxPerAnonymous: config.SHARE_MAX_PER_ANONYMOUS,
        maxCharsPerAccount: config.SHARE_MAX_CHARS_PER_ACCOUNT,
        createPerMinute: config.SHARE_CREATE_PER_MINUTE,
        sweepIntervalMs: config.SHARE_SWEEP_INTERVAL_MS,
      },
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
