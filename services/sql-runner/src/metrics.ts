import { Counter, Histogram, type Registry } from 'prom-client';

/** The run figures of ARCHITECTURE §10 that sql-runner observes. */
export interface RunMetrics {
  runs: Counter<'outcome'>;
  stateReady: Histogram<'source'>;
  headSeconds: Histogram;
  cacheLookups: Counter<'result'>;
  cacheHitDepth: Histogram;
  replaySteps: Counter;
}

const FAST_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** Registers sql-runner's run metrics on `registry`. */
export function createRunMetrics(registry: Registry): RunMetrics {
  const registers = [registry];
  return {
    runs: new Counter({
      name: 'taidon_runs_total',
      help: 'Runs by outcome (ok, error, cancelled, failed).',
      labelNames: ['outcome'],
      registers,
    }),
    stateReady: new Histogram({
      name: 'taidon_run_state_ready_seconds',
      help: 'Time from a run request to an instance at its starting state, by how it was obtained (session, pool, clone, template).',
      labelNames: ['source'],
      buckets: FAST_BUCKETS,
      registers,
    }),
    headSeconds: new Histogram({
      name: 'taidon_run_head_seconds',
      help: 'Execution time of the head statements.',
      buckets: FAST_BUCKETS,
      registers,
    }),
    cacheLookups: new Counter({
      name: 'taidon_cache_lookups_total',
      help: 'Restores by result: hit (the tail state itself was cached), partial (a shallower layer), miss (nothing cached).',
      labelNames: ['result'],
      registers,
    }),
    cacheHitDepth: new Histogram({
      name: 'taidon_cache_hit_depth_steps',
      help: 'Steps covered by the layer a restore started from.',
      buckets: [0, 1, 2, 5, 10, 20, 50, 100, 500, 1000],
      registers,
    }),
    replaySteps: new Counter({
      name: 'taidon_replay_steps_total',
      help: 'Tail steps replayed on instances.',
      registers,
    }),
  };
}

/** Plans asked of the planner's workers, by outcome: queued, or refused (busy: the queue is full; account-busy). */
export function createPlannerJobs(registry: Registry): Counter<'outcome'> {
  return new Counter({
    name: 'taidon_planner_jobs_total',
    help: 'Plans asked of the planner workers, by outcome: queued, busy (queue full, 503), account-busy (429).',
    labelNames: ['outcome'],
    registers: [registry],
  });
}

/** Lookups in the cache of plans (planner/cache.ts), by result: hit, miss, shared, skipped. */
export function createPlanCacheLookups(registry: Registry): Counter<'result'> {
  return new Counter({
    name: 'taidon_plan_cache_lookups_total',
    help: 'Plans looked up in the cache of identical texts, by result: hit (kept), miss (a planner job), shared (waited for the same text being planned), skipped (text too large to key).',
    labelNames: ['result'],
    registers: [registry],
  });
}
