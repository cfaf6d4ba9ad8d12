import { type AuditSink, createBaseApp, pingPool, requireServiceToken } from '@taidon/kit';
import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import type { Logger } from 'pino';
import type { SnapshotCacheClient } from './clients/snapshot-cache.js';
import type { EnvManagerConfig } from './config.js';
import type { ClusterInstanceManager } from './domain/cluster-instances.js';
import { InstanceManager } from './domain/instances.js';
import { type Loop, startLoop } from './domain/loops.js';
import { expireInstances, reconcile } from './domain/maintenance.js';
import { takeOver } from './domain/take-over.js';
import { WarmPool } from './domain/warm-pool.js';
import type { TemplateSettings } from './engine/template.js';
import { createEnvManagerMetrics, type EnvManagerMetrics, exposeEnvManagerMetrics } from './metrics.js';
import { registerInstanceAudit } from './routes/audit.js';
import { registerEngineRoutes } from './routes/engine.js';
import { registerInstanceRoutes } from './routes/instances.js';
import { registerWarmPoolRoutes } from './routes/warm-pool.js';
import type { Runtime } from './runtimes/runtime.js';
import { Semaphore } from './runtimes/throttle.js';
import { listInstances } from './store/instances.js';

/** How often reconcile also looks for orphan servers (see the reconcile loop below). */
const ORPHAN_SCAN_MS = 60_000;
/** Instances stopped at once on close: each stop waits for a shutdown checkpoint and the server's exit. */
const CLOSE_STOPS_AT_ONCE = 8;

/** What env-manager needs from the outside world. */
export interface EnvManagerDeps {
  config: Pick<
    EnvManagerConfig,
    | 'SERVICE_TOKEN'
    | 'SANDBOX_ADMIN_PASSWORD'
    | 'SANDBOX_STATEMENT_TIMEOUT_MS'
    | 'SANDBOX_IDLE_IN_TRANSACTION_TIMEOUT_MS'
    | 'SANDBOX_TEMP_FILE_LIMIT_KB'
    | 'SANDBOX_WORK_MEM_KB'
    | 'INSTANCE_IDLE_TTL_SECONDS'
    | 'INSTANCE_SUSPENDED_TTL_SECONDS'
    | 'INSTANCE_THROWAWAY_TTL_SECONDS'
    | 'INSTANCE_START_TIMEOUT_MS'
    | 'INSTANCE_STUCK_TIMEOUT_MS'
    | 'INSTANCE_DISK_MAX_BYTES'
    | 'INSTANCE_START_CONCURRENCY'
    | 'RECONCILE_INTERVAL_MS'
    | 'WARM_POOL_MAX_INSTANCES'
    | 'WARM_POOL_MIN_AVAILABLE_BYTES'
  >;
  pool: pg.Pool;
  logger: Logger;
  snapshotCache: SnapshotCacheClient;
  /** The local runtime's servers; required unless `cluster` is given. */
  runtime?: Runtime;
  /**
   * ENV_MANAGER_RUNTIME=kubernetes: instances are TaidonInstances placed on the node agents (ClusterInstanceManager),
   * reconciled elsewhere (the reconciler start.ts builds); no local loop or server runs here, and the warm pool's
   * instances are TaidonInstances too, refilled by the replica that holds the Lease (`leads`).
   */
  cluster?: ClusterInstanceManager;
  /**
   * On close, suspend every Running instance and delete pooled ones, so no
   * server outlives the app itself (not only its process). Off by default:
   * there the servers stop with the process (ADR 0024), and the next start
   * takes their instances over. The all-in-one process and tests turn it on.
   */
  stopInstancesOnClose?: boolean;
  /**
   * Whether the background loops (reconcile, TTL, warm pool) run, after taking over what a previous env-manager
   * left (domain/take-over.ts); tests drive both by hand. Default true.
   */
  runLoops?: boolean;
  /** Where instance-created/-deleted audit events go (createAuditSink); none, none are reported. Closed with the app. */
  audit?: AuditSink;
  /** The metrics to count in (the cluster's instances count in the same); made here when absent. */
  metrics?: EnvManagerMetrics;
  /**
   * On a cluster: whether this replica holds the reconciler's Lease, so its warm pool starts and retires pooled
   * instances (a follower stores demand and counts only). Default: always, as for one replica.
   */
  leads?: () => boolean;
  /** Reads MemAvailable in bytes; tests replace it to simulate memory pressure. */
  memAvailable?: () => Promise<number | undefined>;
}

/** The settings of the template, from configuration. */
export function templateSettings(config: EnvManagerDeps['config']): TemplateSettings {
  return {
    statementTimeoutMs: config.SANDBOX_STATEMENT_TIMEOUT_MS,
    idleInTransactionTimeoutMs: config.SANDBOX_IDLE_IN_TRANSACTION_TIMEOUT_MS,
    tempFileLimitKb: config.SANDBOX_TEMP_FILE_LIMIT_KB,
    workMemKb: config.SANDBOX_WORK_MEM_KB,
  };
}

/** env-manager: PostgreSQL sandbox instances, their life cycle, TTLs and warm pool. */
export function buildApp(deps: EnvManagerDeps): FastifyInstance {
  const { config, pool, logger, runtime } = deps;
  const creations = new Semaphore(config.INSTANCE_START_CONCURRENCY);
  const app = createBaseApp({ service: 'env-manager', logger, readiness: { database: pingPool(pool) } });
  requireServiceToken(app, config.SERVICE_TOKEN);
  const metrics = deps.metrics ?? createEnvManagerMetrics(pool);
  exposeEnvManagerMetrics(app, metrics);
  const settings = templateSettings(config);
  if (deps.cluster) {
    const cluster = deps.cluster;
    registerEngineRoutes(app, settings);
    registerInstanceRoutes(app, cluster);
    if (deps.audit) registerInstanceAudit(app, deps.audit);
    // The same pool as locally (demand in warm_pool_demand, bounded by WARM_POOL_MAX_INSTANCES, turns across keys),
    // its supply the cluster's TaidonInstances. No MemAvailable check: this process's memory is not the nodes'
    // (the namespace's ResourceQuota bounds them; a refusal is logged and tried again at the next pass).
    const warm = new WarmPool({
      pool,
      supply: cluster.poolSupply(),
      mayFill: deps.leads ?? (() => true),
      maxInstances: config.WARM_POOL_MAX_INSTANCES,
      minAvailableBytes: 0,
      memAvailable: async () => undefined,
      fillConcurrency: Math.max(1, Math.floor(config.INSTANCE_START_CONCURRENCY / 2)),
      onError: (error, key) => logger.warn({ err: error, key }, 'warm pool could not start an instance'),
    });
    cluster.attachPool({ onTake: () => warm.kickSoon(), mayHave: (key) => warm.mayHave(key) });
    registerWarmPoolRoutes(app, warm, cluster);
    let loop: Loop | undefined;
    app.addHook('onReady', async () => {
      if (deps.runLoops === false) return;
      loop = startLoop(
        'warm-pool',
        config.RECONCILE_INTERVAL_MS,
        () => warm.fill(),
        (error) => logger.error({ err: error }, 'warm pool failed'),
      );
    });
    app.addHook('onClose', async () => {
      cluster.close();
      await loop?.stop();
      await warm.stop();
    });
    return app;
  }
  if (!runtime) throw new Error('buildApp: env-manager needs a runtime or a cluster');
  let warmPool: WarmPool | undefined;
  const manager = new InstanceManager({
    pool,
    runtime,
    snapshotCache: deps.snapshotCache,
    metrics,
    settings,
    adminPassword: config.SANDBOX_ADMIN_PASSWORD,
    startTimeoutMs: config.INSTANCE_START_TIMEOUT_MS,
    diskMaxBytes: config.INSTANCE_DISK_MAX_BYTES,
    creations,
    onPoolTake: () => warmPool?.kickSoon(),
    mayHavePooled: (key) => warmPool?.mayHave(key) ?? true,
  });
  warmPool = new WarmPool({
    pool,
    manager,
    maxInstances: config.WARM_POOL_MAX_INSTANCES,
    minAvailableBytes: config.WARM_POOL_MIN_AVAILABLE_BYTES,
    // Half the creation slots at most: learners' own creations are never all queued behind a refill.
    fillConcurrency: Math.max(1, Math.floor(config.INSTANCE_START_CONCURRENCY / 2)),
    ...(deps.memAvailable ? { memAvailable: deps.memAvailable } : {}),
    onError: (error, key) => logger.warn({ err: error, key }, 'warm pool could not start an instance'),
  });
  const pooled = warmPool;
  registerEngineRoutes(app, settings);
  registerInstanceRoutes(app, manager);
  if (deps.audit) registerInstanceAudit(app, deps.audit);
  registerWarmPoolRoutes(app, pooled, manager);

  const loops: Loop[] = [];
  app.addHook('onReady', async () => {
    if (deps.runLoops === false) return;
    // Awaited up to the point where every instance left by the previous env-manager is locked: a resume that
    // arrives once the app serves waits for its instance to be taken over, and finds it Suspended.
    const { settled } = await takeOver(manager, { pool, runtime });
    void settled.then((summary) => {
      const count = summary.suspended.length + summary.deleted.length + summary.failed.length;
      if (count + summary.errors.length > 0) logger.warn({ ...summary }, 'took over the previous instances');
    });
    const every = config.RECONCILE_INTERVAL_MS;
    let orphansScannedAt = Number.NEGATIVE_INFINITY;
    const report = (what: string) => (error: unknown) => logger.error({ err: error }, `${what} failed`);
    loops.push(
      startLoop(
        'reconcile',
        every,
        async () => {
          // Orphans are rare (a crash between spawn and record) and finding them reads every process of the
          // machine: with 900 instances, that scan was most of an idle platform's CPU. Once a minute is enough.
          const scanOrphans = Date.now() - orphansScannedAt >= ORPHAN_SCAN_MS;
          if (scanOrphans) orphansScannedAt = Date.now();
          const summary = await reconcile(manager, {
            pool,
            runtime,
            stuckMs: config.INSTANCE_STUCK_TIMEOUT_MS,
            scanOrphans,
          });
          const repaired = summary.failed.length + summary.settled.length + summary.stuck.length;
          if (repaired + summary.killedOrphans.length > 0) {
            logger.warn({ ...summary }, 'reconcile repaired drift');
          }
        },
        report('reconcile'),
      ),
      startLoop(
        'instance-ttl',
        every,
        () =>
          expireInstances(manager, pool, {
            idleSeconds: config.INSTANCE_IDLE_TTL_SECONDS,
            suspendedSeconds: config.INSTANCE_SUSPENDED_TTL_SECONDS,
            throwawaySeconds: config.INSTANCE_THROWAWAY_TTL_SECONDS,
          }),
        report('instance TTL'),
      ),
      startLoop('warm-pool', every, () => pooled.fill(), report('warm pool')),
    );
  });
  app.addHook('onClose', async () => {
    // No server starts from here on; the starts in flight finish, and the sweep below then finds their servers.
    manager.close();
    creations.close();
    await Promise.all(loops.map((loop) => loop.stop()));
    await pooled.stop();
    await manager.busy.idle();
    if (!deps.stopInstancesOnClose) return;
    const rows = await listInstances(pool, { states: ['Running'] });
    const stopOne = async () => {
      for (let row = rows.shift(); row; row = rows.shift()) {
        try {
          if (row.pooled) await manager.delete(row.id, 'service closed');
          else await manager.suspend(row.id, 'service closed');
        } catch (error) {
          logger.error({ err: error, instanceId: row.id }, 'could not stop an instance on close');
        }
      }
    };
    await Promise.all(Array.from({ length: CLOSE_STOPS_AT_ONCE }, stopOne));
  });
  return app;
}
