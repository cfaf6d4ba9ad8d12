import { createBaseApp, createMetricsRegistry, requireServiceToken, type ServiceEndpoint } from '@taidon/kit';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { VcsSyncClient } from './clients/vcs-sync.js';
import type { SqlRunnerConfig } from './config.js';
import { computeBaseKey } from './domain/chain/keys.js';
import type { EngineIdentity } from './domain/engine.js';
import { DEFAULT_LAYER_HOLD_SETTINGS, type LayerHoldSettings, LayerHolds } from './domain/holds/layer-holds.js';
import { ProjectTails } from './domain/projects/project-tails.js';
import type { RunnerDeps } from './domain/runs/context.js';
import { RunRegistry } from './domain/runs/run.js';
import { warmUpBaseState } from './domain/runs/warm-up.js';
import { DEFAULT_SHARE_SETTINGS, type ShareSettings, Shares } from './domain/shares/shares.js';
import {
  DEFAULT_GRADER_THROWAWAY_SETTINGS,
  DEFAULT_THROWAWAY_SETTINGS,
  ThrowawayClones,
  type ThrowawaySettings,
} from './domain/throwaway/clones.js';
import { createPlanCacheLookups, createPlannerJobs, createRunMetrics } from './metrics.js';
import { cachePlans, createPlanner, type PlannerConfig, registerPlanner } from './planner/index.js';
import { registerExplainRoutes } from './routes/explain.js';
import { registerLayerHoldRoutes } from './routes/layer-holds.js';
import { registerPlanRoutes } from './routes/plan.js';
import { registerProjectTestRoutes } from './routes/project-tests.js';
import { registerRunRoutes } from './routes/runs.js';
import { registerSchemaRoutes } from './routes/schema.js';
import { registerShareRoutes } from './routes/shares.js';
import { registerThrowawayQueryRoutes } from './routes/throwaway-queries.js';
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
  /** Bounds of share links (SHARE_*); those not given take their documented defaults. Served with runs only. */
  shares?: Partial<ShareSettings>;
  /** vcs-sync (VCS_SYNC_URL), where project tails are read; without it a project tail is refused with 503. */
  vcsSync?: ServiceEndpoint;
  /** Bounds of throwaway clones (THROWAWAY_MAX_PER_ACCOUNT, THROWAWAY_MAX); those not given take their defaults. */
  throwaway?: Partial<ThrowawaySettings>;
  /**
   * Bounds of grading clones of warm held layers (THROWAWAY_GRADER_MAX_PER_ACCOUNT, THROWAWAY_GRADER_MAX), counted
   * apart from `throwaway` (ADR 0044); those not given take their defaults.
   */
  graderThrowaway?: Partial<ThrowawaySettings>;
  /** Files of one project's tests run at once (TESTS_CONCURRENCY); default 2. */
  testsConcurrency?: number;
  /** Bounds of the warm instances layer holds ask for (THROWAWAY_WARM_MAX, THROWAWAY_WARM_PER_KEY_MAX). */
  layerHolds?: Partial<LayerHoldSettings>;
}

/** sql-runner: plans SQL chains and runs them on sandbox instances. */
export function buildApp(deps: SqlRunnerDeps): FastifyInstance {
  const metrics = createMetricsRegistry('sql-runner');
  const app = createBaseApp({ service: 'sql-runner', logger: deps.logger, bodyLimitBytes: 1024 * 1024, metrics });
  requireServiceToken(app, deps.config.SERVICE_TOKEN);
  const runs = deps.runs ? { ...deps.runs, metrics: createRunMetrics(metrics) } : undefined;
  const pool = createPlanner(deps.config, deps.logger, createPlannerJobs(metrics));
  registerPlanner(app, pool);
  // Every learner of an exercise sends the same tail: planned once, not once per learner (ADR 0043).
  const planner = cachePlans(pool, deps.config, createPlanCacheLookups(metrics));
  const projects = new ProjectTails(deps.vcsSync ? new VcsSyncClient(deps.vcsSync) : undefined);
  registerPlanRoutes(app, deps.engine, planner, projects, runs?.snapshotCache);
  if (runs) {
    const shares = new Shares({
      pool: runs.pool,
      snapshotCache: runs.snapshotCache,
      plan: (files, options, owner) => planner.plan(files, options, owner),
      chainOptions: { engineVersion: deps.engine.version, settings: { ...deps.engine.settings } },
      projects,
      settings: { ...DEFAULT_SHARE_SETTINGS, ...deps.shares },
      onSweepError: (error) => app.log.warn({ err: error }, 'the share sweep failed; it runs again later'),
    });
    registerRunRoutes(app, deps.engine, runs, new RunRegistry(), planner, shares);
    registerShareRoutes(app, shares);
    // SQL that must leave the learner's instance and the layers as they were runs on throwaway clones (ADR 0031).
    // Layers a published exercise holds: pinned, and kept warm for its graders' clones (ADR 0044).
    const holds = new LayerHolds(
      {
        pool: runs.pool,
        snapshotCache: runs.snapshotCache,
        envManager: runs.envManager,
        onError: (error, key) => app.log.warn({ err: error, key }, 'a layer hold could not be kept; retried later'),
      },
      { ...DEFAULT_LAYER_HOLD_SETTINGS, ...deps.layerHolds },
    );
    registerLayerHoldRoutes(app, holds, (key) => runs.prepared?.readyFor(key) ?? 0);
    app.addHook('onReady', async () => holds.start());
    const clones = new ThrowawayClones(runs, { ...DEFAULT_THROWAWAY_SETTINGS, ...deps.throwaway }, (key) =>
      holds.noteUse(key),
    );
    const chainOptions = { engineVersion: deps.engine.version, settings: { ...deps.engine.settings } };
    registerExplainRoutes(app, runs, clones, planner, shares, chainOptions);
    // A grader's entries on a layer held warm take started instances, not spawns: they count against an allowance
    // of their own, so an attempt's states go in one round, and the tests' and EXPLAIN's slots stay theirs.
    const graderClones = new ThrowawayClones(
      runs,
      {
        ...DEFAULT_THROWAWAY_SETTINGS,
        ...DEFAULT_GRADER_THROWAWAY_SETTINGS,
        ...(deps.throwaway?.useMaxMs ? { useMaxMs: deps.throwaway.useMaxMs } : {}),
        ...deps.graderThrowaway,
      },
      (key) => holds.noteUse(key),
    );
    registerThrowawayQueryRoutes(app, runs, clones, planner, shares, chainOptions, {
      clones: graderClones,
      warm: (key) => (holds.warmSizes().get(key) ?? 0) > 0,
      pinned: (key) => holds.heldPinned(key),
    });
    registerProjectTestRoutes(app, runs, clones, planner, projects, chainOptions, {
      concurrency: deps.testsConcurrency ?? 2,
    });
    app.addHook('onReady', async () => shares.start());
    if (runs.quota) registerUsageRoutes(app, runs.quota);
    registerSchemaRoutes(app, runs);
    // Connections to warm-pool instances are opened ahead of the runs that will take them.
    app.addHook('onReady', async () => runs.prepared?.start());
    app.addHook('onClose', async () => {
      await holds.close();
      await shares.close();
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
