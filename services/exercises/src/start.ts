import { type AuditSink, createAuditSink, createPool } from '@taidon/kit';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { buildApp } from './app.js';
import { sqlRunnerQueries } from './clients/sql-runner.js';
import { vcsSyncExerciseFiles } from './clients/vcs-sync.js';
import type { ExercisesConfig } from './config.js';
import { loadParser } from './domain/sql/tree.js';
import { migrateExercises } from './migrate.js';

/** The exercises service built and ready to listen; close() stops the app (and its audit sink), then ends its pool. */
export interface StartedExercises {
  app: FastifyInstance;
  close(): Promise<void>;
}

/**
 * Builds the whole exercises service from its validated config: pool,
 * migrations, the SQL parser, the sql-runner client, the audit sink
 * (AUDIT_LOG_URL), app. The one way it is started: by its server.ts, by the
 * local launcher and by tests.
 */
export async function startExercises(config: ExercisesConfig, options: { logger: Logger }): Promise<StartedExercises> {
  const pool = createPool(config.EXERCISES_DATABASE_URL, { applicationName: 'taidon-exercises' });
  let audit: AuditSink | undefined;
  let app: FastifyInstance;
  try {
    await migrateExercises(pool);
    await loadParser();
    audit = config.AUDIT_LOG_URL
      ? await createAuditSink({
          url: config.AUDIT_LOG_URL,
          serviceToken: config.SERVICE_TOKEN,
          outboxFile: config.AUDIT_OUTBOX_FILE,
          logger: options.logger,
        })
      : undefined;
    const grader = sqlRunnerQueries({
      name: 'sql-runner',
      baseUrl: config.SQL_RUNNER_URL,
      serviceToken: config.SERVICE_TOKEN,
      timeoutMs: config.EXERCISES_SQL_RUNNER_TIMEOUT_MS,
    });
    // Projects are read only to import the exercises authored in one; without vcs-sync that import is refused.
    const projects = config.VCS_SYNC_URL
      ? vcsSyncExerciseFiles({
          name: 'vcs-sync',
          baseUrl: config.VCS_SYNC_URL,
          serviceToken: config.SERVICE_TOKEN,
          timeoutMs: 30_000,
        })
      : undefined;
    app = buildApp({
      config,
      pool,
      logger: options.logger,
      grader,
      ...(projects ? { projects } : {}),
      ...(audit ? { audit } : {}),
    });
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
