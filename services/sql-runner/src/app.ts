import { createBaseApp, createMetricsRegistry, requireServiceToken } from '@taidon/kit';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { SqlRunnerConfig } from './config.js';
import { computeBaseKey } from './domain/chain/keys.js';
import type { EngineIdentity } from './domain/engine.js';
import type { RunnerDeps } from './domain/runs/context.js';
import { RunRegistry } from './domain/runs/run.js';
import { warmUpBaseState } from './domain/runs/warm-up.js';
import { createRunMetrics } from './metrics.js';
import { createPlanner, type PlannerConfig, registerPlanner } from './planner/index.js';
import { registerPlanRoutes } from './routes/plan.js';
import { registerRunRoutes } from './routes/runs.js';
import { registerSchemaRoutes } from './routes/schema.js';
import { registerUsageRoutes } from './routes/usage.js';

/** What sql-runner needs from the outside world. */
export interface SqlRunnerDeps {
  /** The planner's PLAN_* knobs not given take their documented defaults. */
  config: Pick<SqlRunnerConfig, 'SERVICE_TOKEN'> & Partial<PlannerConfig>;
  engine: EngineIdentity;
  logger: Logger;
  /** The control-plane pool and sibling services that runs need; without them only planning is served. */
  runs?: RunnerDeps;
  /** Started instances of the empty database to keep ready (RUN_WARM_POOL_EMPTY); 0 builds nothing ahead. */
  warmPoolEmpty?: number;
}

/** sql-runner: plans SQL chains and runs them on sandbox instances. */
export function buildApp(deps: SqlRunnerDeps): FastifyInstance {
  const metrics = createMetricsRegistry('sql-runner');
  const app = createBaseApp({ service: 'sql-runner', logger: deps.logger, bodyLimitBytes: 1024 * 1024, metrics });
  requireServiceToken(app, deps.config.SERVICE_TOKEN);
  const runs = deps.runs ? { ...deps.runs, metrics: createRunMetrics(metrics) } : undefined;
  const planner = createPlanner(deps.config, deps.logger);
  registerPlanner(app, planner);
  registerPlanRoutes(app, deps.engine, planner, runs?.snapshotCache);
  if (runs) {
    registerRunRoutes(app, deps.engine, runs, new RunRegistry(), planner);
    if (runs.quota) registerUsageRoutes(app, runs.quota);
    registerSchemaRoutes(app, runs);
    // Connections to warm-pool instances are opened ahead of the runs that will take them.
    app.addHook('onReady', async () => runs.prepared?.start());
    app.addHook('onClose', async () => {
      await runs.prepared?.close();
      await runs.connections.closeAll();
      await runs.uses.flush();
      await runs.quota?.close();
    });
    const warmPoolEmpty = deps.warmPoolEmpty ?? 0;
    if (warmPoolEmpty > 0) {
      const baseKey = computeBaseKey({ engineVersion: deps.engine.version, settings: { ...deps.engine.settings } });
      app.addHook('onReady', async () => {
        // In the background: the service answers at once, and a failure here only costs the first run its speed.
        void warmUpBaseState(runs, baseKey, warmPoolEmpty).catch((error: unknown) =>
          app.log.warn({ err: error }, 'could not prepare the empty database ahead of the first run'),
        );
      });
    }
  }
  return app;
}
