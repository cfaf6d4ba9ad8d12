import { type AuditSink, createBaseApp, createMetricsRegistry, pingPool, requireServiceToken } from '@taidon/kit';
import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import type { Logger } from 'pino';
import type { ThrowawayQueries } from './clients/sql-runner.js';
import type { ProjectExerciseFiles } from './clients/vcs-sync.js';
import type { ExercisesConfig } from './config.js';
import { createExerciseMetrics } from './metrics.js';
import { registerExerciseRoutes } from './routes/exercises.js';
import { registerPackRoutes } from './routes/packs.js';

/** Publishes one service process measures at once (each holds up to the account's throwaway clones). */
const MAX_CONCURRENT_PUBLISHES = 2;

/** What the exercises service needs from the outside world. */
export interface ExercisesDeps {
  config: Pick<
    ExercisesConfig,
    | 'SERVICE_TOKEN'
    | 'EXERCISES_MAX_MUTANTS'
    | 'EXERCISES_MUTANT_TIMEOUT_MS'
    | 'EXERCISES_PUBLISH_BUDGET_MS'
    | 'EXERCISES_ATTEMPT_TIMEOUT_MS'
    | 'EXERCISES_PACK_PUBLISH_BUDGET_MS'
  >;
  pool: pg.Pool;
  logger: Logger;
  /** sql-runner's grader route (`POST /throwaway/queries`). */
  grader: ThrowawayQueries;
  /** vcs-sync's exercise files of a project (VCS_SYNC_URL); none, a pack from a project is refused. */
  projects?: ProjectExerciseFiles;
  /** Where `exercise-published` events go; none, none are reported. Closed with the app. */
  audit?: AuditSink;
}

/** The exercises service: authored exercises, measured by their reference's mutants before they are published. */
export function buildApp(deps: ExercisesDeps): FastifyInstance {
  const { config } = deps;
  const metrics = createMetricsRegistry('exercises');
  const app = createBaseApp({
    service: 'exercises',
    metrics,
    logger: deps.logger,
    readiness: { database: pingPool(deps.pool) },
    // The exercise route has its own limit (start state and datasets); other bodies are small.
    bodyLimitBytes: 64 * 1024,
  });
  requireServiceToken(app, config.SERVICE_TOKEN);
  const exerciseMetrics = createExerciseMetrics(metrics);
  registerExerciseRoutes(app, deps.pool, {
    grader: deps.grader,
    settings: {
      maxMutants: config.EXERCISES_MAX_MUTANTS,
      mutantTimeoutMs: config.EXERCISES_MUTANT_TIMEOUT_MS,
      budgetMs: config.EXERCISES_PUBLISH_BUDGET_MS,
    },
    maxConcurrentPublishes: MAX_CONCURRENT_PUBLISHES,
    metrics: exerciseMetrics,
    attemptTimeoutMs: config.EXERCISES_ATTEMPT_TIMEOUT_MS,
    ...(deps.audit ? { audit: deps.audit } : {}),
  });
  registerPackRoutes(app, {
    pool: deps.pool,
    grader: deps.grader,
    metrics: exerciseMetrics,
    settings: {
      maxMutants: config.EXERCISES_MAX_MUTANTS,
      mutantTimeoutMs: config.EXERCISES_MUTANT_TIMEOUT_MS,
      budgetMs: config.EXERCISES_PUBLISH_BUDGET_MS,
    },
    packBudgetMs: config.EXERCISES_PACK_PUBLISH_BUDGET_MS,
    ...(deps.projects ? { projects: deps.projects } : {}),
    ...(deps.audit ? { audit: deps.audit } : {}),
  });
  const audit = deps.audit;
  if (audit) app.addHook('onClose', async () => audit.close());
  return app;
}
