import { createPool } from '@taidon/kit';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { buildApp } from './app.js';
import type { SnapshotCacheConfig } from './config.js';
import { reconcile } from './domain/reconcile.js';
import { createDriver } from './drivers/detect.js';
import type { CowDriver } from './drivers/driver.js';
import { migrateSnapshotCache } from './migrate.js';

/** snapshot-cache built and ready to listen; close() stops the app, then the driver (unmounting), then the pool. */
export interface StartedSnapshotCache {
  app: FastifyInstance;
  driver: CowDriver;
  close(): Promise<void>;
}

/**
 * Builds the whole of snapshot-cache from its validated config: pool,
 * migrations, the storage driver (prepared: it may mount the layer store),
 * the reconcile of the database with the disk, app. The one way it is started.
 */
export async function startSnapshotCache(
  config: SnapshotCacheConfig,
  options: { logger: Logger },
): Promise<StartedSnapshotCache> {
  const { logger } = options;
  const pool = createPool(config.SNAPSHOT_CACHE_DATABASE_URL, { applicationName: 'taidon-snapshot-cache' });
  let driver: CowDriver | undefined;
  try {
    await migrateSnapshotCache(pool);
    driver = await createDriver(config);
    await driver.prepare();
    logger.info(
      { driver: driver.name, rootDir: driver.rootDir, atomicSnapshot: driver.atomicSnapshot },
      'driver ready',
    );
    logger.info({ reconcile: await reconcile(pool, driver) }, 'reconciled the database with the disk');
  } catch (error) {
    // What prepare mounted is unmounted: a failed start leaves nothing behind.
    await driver?.close().catch(() => {});
    await pool.end().catch(() => {});
    throw error;
  }
  const ready = driver;
  const app = buildApp({ config, pool, driver: ready, logger });
  return {
    app,
    driver: ready,
    close: async () => {
      await app.close();
      await ready.close();
      await pool.end();
    },
  };
}
