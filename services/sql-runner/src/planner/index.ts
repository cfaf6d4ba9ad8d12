import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Counter } from 'prom-client';
import { type SqlRunnerConfig, sqlRunnerConfigSpec } from '../config.js';
import type { PlanLimits } from '../domain/chain/index.js';
import { PlanCache } from './cache.js';
import { PlannerBusyError } from './errors.js';
import { type Planner, PlannerPool } from './pool.js';

export { MAX_CACHED_TEXT_CHARS, PlanCache, type PlanCacheOptions, planKey } from './cache.js';
export { PLANNER_ERROR_CODES, PlannerBusyError } from './errors.js';
export { type Planner, PlannerPool, type PlannerPoolOptions } from './pool.js';

const KNOBS = [
  'PLAN_WORKERS',
  'PLAN_TIMEOUT_MS',
  'PLAN_QUEUE_MAX',
  'PLAN_QUEUE_PER_ACCOUNT',
  'PLAN_QUEUE_MAX_CHARS',
  'PLAN_WORKER_MEMORY_MB',
  'PLAN_CACHE_ENTRIES',
  'PLAN_CACHE_MAX_BYTES',
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
    limits: planLimits(c),
    logger,
    ...(jobs ? { jobs } : {}),
  });
}

/** The limits every plan is made under, from the PLAN_MAX_* knobs. */
function planLimits(c: PlannerConfig): PlanLimits {
  return {
    maxSteps: c.PLAN_MAX_STEPS,
    maxChars: c.PLAN_MAX_CHARS,
    maxIncludes: c.PLAN_MAX_INCLUDES,
    maxIncludeDepth: c.PLAN_MAX_INCLUDE_DEPTH,
    maxVariableChars: c.PLAN_MAX_VARIABLE_CHARS,
  };
}

/**
 * The pool behind a cache of plans of identical texts (PLAN_CACHE_ENTRIES, PLAN_CACHE_MAX_BYTES; 0 entries
 * asks the pool every time). `lookups` counts hits, misses, shared plans and texts too large to key.
 */
export function cachePlans(pool: Planner, config: Partial<PlannerConfig>, lookups?: Counter<'result'>): PlanCache {
  const c = plannerConfig(config);
  return new PlanCache(pool, {
    maxEntries: c.PLAN_CACHE_ENTRIES,
    maxBytes: c.PLAN_CACHE_MAX_BYTES,
    limits: planLimits(c),
    ...(lookups ? { lookups } : {}),
  });
}

/** Retry-After on the planner's refusals, and the workers stopped with the app. */
export function registerPlanner(app: FastifyInstance, pool: PlannerPool): void {
  app.addHook('onError', async (_request, reply, error) => {
    if (error instanceof PlannerBusyError) reply.header('retry-after', String(error.retryAfterSeconds));
  });
  app.addHook('onClose', async () => pool.close());
}
