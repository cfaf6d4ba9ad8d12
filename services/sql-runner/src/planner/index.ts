import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Counter } from 'prom-client';
import { type SqlRunnerConfig, sqlRunnerConfigSpec } from '../config.js';
import { PlannerBusyError } from './errors.js';
import { PlannerPool } from './pool.js';

export { PLANNER_ERROR_CODES, PlannerBusyError } from './errors.js';
export { type Planner, PlannerPool, type PlannerPoolOptions } from './pool.js';

const KNOBS = [
  'PLAN_WORKERS',
  'PLAN_TIMEOUT_MS',
  'PLAN_QUEUE_MAX',
  'PLAN_QUEUE_PER_ACCOUNT',
  'PLAN_QUEUE_MAX_CHARS',
  'PLAN_WORKER_MEMORY_MB',
  'PLAN_MAX_STEPS',
  'PLAN_MAX_CHARS',
  'PLAN_MAX_INCLUDES',
  'PLAN_MAX_INCLUDE_DEPTH',
  'PLAN_MAX_VARIABLE_CHARS',
] as const;

/** The configuration the planner reads. */
export type PlannerConfig = Pick<SqlRunnerConfig, (typeof KNOBS)[number]>;

/** The planner's knobs from `config`, each one not given taking its documented default. */
export function plannerConfig(config: Partial<PlannerConfig>): PlannerConfig {
  const entries = KNOBS.map((name) => [name, config[name] ?? sqlRunnerConfigSpec[name].parse(undefined)]);
  return Object.fromEntries(entries) as PlannerConfig;
}

/** A planner pool sized and bounded by the configuration. */
export function createPlanner(config: Partial<PlannerConfig>, logger: Logger, jobs?: Counter<'outcome'>): PlannerPool {
  const c = plannerConfig(config);
  return new PlannerPool({
    workers: c.PLAN_WORKERS,
    timeoutMs: c.PLAN_TIMEOUT_MS,
    queueMax: c.PLAN_QUEUE_MAX,
    queuePerAccount: c.PLAN_QUEUE_PER_ACCOUNT,
    queueMaxChars: c.PLAN_QUEUE_MAX_CHARS,
    workerMemoryMb: c.PLAN_WORKER_MEMORY_MB,
    limits: {
      maxSteps: c.PLAN_MAX_STEPS,
      maxChars: c.PLAN_MAX_CHARS,
      maxIncludes: c.PLAN_MAX_INCLUDES,
      maxIncludeDepth: c.PLAN_MAX_INCLUDE_DEPTH,
      maxVariableChars: c.PLAN_MAX_VARIABLE_CHARS,
    },
    logger,
    ...(jobs ? { jobs } : {}),
  });
}

/** Retry-After on the planner's refusals, and the workers stopped with the app. */
export function registerPlanner(app: FastifyInstance, pool: PlannerPool): void {
  app.addHook('onError', async (_request, reply, error) => {
    if (error instanceof PlannerBusyError) reply.header('retry-after', String(error.retryAfterSeconds));
  });
  app.addHook('onClose', async () => pool.close());
}
