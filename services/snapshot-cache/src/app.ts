import { createBaseApp, pingPool, requireServiceToken } from '@taidon/kit';
import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import type { Logger } from 'pino';
import type { SnapshotCacheConfig } from './config.js';
import { LayerCache } from './domain/layer-cache.js';
import type { CowDriver } from './drivers/driver.js';
import { createSnapshotCacheMetrics, exposeSnapshotCacheMetrics } from './metrics.js';
import { registerDriverRoutes } from './routes/driver.js';
import { registerLayerRoutes } from './routes/layers.js';
import { registerVolumeRoutes } from './routes/volumes.js';
import { layerTotals } from './store/layers.js';

/** What snapshot-cache needs from the outside world. */
export interface SnapshotCacheDeps {
  config: Pick<
    SnapshotCacheConfig,
    'SERVICE_TOKEN' | 'SNAPSHOT_CACHE_BUDGET_BYTES' | 'SNAPSHOT_CACHE_EVICTION_HALF_LIFE_SECONDS'
  > &
    Partial<Pick<SnapshotCacheConfig, 'SNAPSHOT_CACHE_SPARE_CLONES'>>;
  pool: pg.Pool;
  /** A prepared driver (see createDriver); the app neither prepares nor closes it. */
  driver: CowDriver;
  logger: Logger;
}

/** snapshot-cache: volumes and copy-on-write layers of PostgreSQL data directories. */
export function buildApp(deps: SnapshotCacheDeps): FastifyInstance {
  const app = createBaseApp({
    service: 'snapshot-cache',
    logger: deps.logger,
    readiness: { database: pingPool(deps.pool) },
    // It calls no other service (createBaseApp's hopContext).
    hopContext: false,
  });
  requireServiceToken(app, deps.config.SERVICE_TOKEN);
  const metrics = createSnapshotCacheMetrics();
  exposeSnapshotCacheMetrics(app, metrics, () => layerTotals(deps.pool), deps.config.SNAPSHOT_CACHE_BUDGET_BYTES);
  const cache = new LayerCache({
    pool: deps.pool,
    driver: deps.driver,
    metrics,
    budgetBytes: deps.config.SNAPSHOT_CACHE_BUDGET_BYTES,
    halfLifeMs: deps.config.SNAPSHOT_CACHE_EVICTION_HALF_LIFE_SECONDS * 1000,
    onEvictionError: (error) => deps.logger.error({ err: error }, 'eviction after a new layer failed'),
    spareClones: deps.config.SNAPSHOT_CACHE_SPARE_CLONES ?? 0,
    onSpareError: (error) => deps.logger.warn({ err: error }, 'could not make a clone ahead of the next one'),
  });
  // Before the driver closes (the server unmounts it after the app): spares are volumes nobody recorded.
  app.addHook('onClose', async () => cache.close());
  registerDriverRoutes(app, deps.driver);
  registerVolumeRoutes(app, cache);
  registerLayerRoutes(app, cache);
  return app;
}
