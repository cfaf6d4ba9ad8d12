import { createLogger, createPool } from '@taidon/kit';
import { buildApp } from './app.js';
import { loadSnapshotCacheConfig } from './config.js';
import { reconcile } from './domain/reconcile.js';
import { createDriver } from './drivers/detect.js';
import { migrateSnapshotCache } from './migrate.js';

// The only file of snapshot-cache that touches process.*: config, logger,
// migrations, driver, reconcile, app, listen, graceful close (unmounting).
const config = loadSnapshotCacheConfig();
const logger = createLogger({ service: 'snapshot-cache', level: config.LOG_LEVEL });
const pool = createPool(config.SNAPSHOT_CACHE_DATABASE_URL, { applicationName: 'taidon-snapshot-cache' });
await migrateSnapshotCache(pool);
const driver = await createDriver(config);
await driver.prepare();
logger.info({ driver: driver.name, rootDir: driver.rootDir, atomicSnapshot: driver.atomicSnapshot }, 'driver ready');
const summary = await reconcile(pool, driver);
logger.info({ reconcile: summary }, 'reconciled the database with the disk');
const app = buildApp({ config, pool, driver, logger });
await app.listen({ host: config.HOST, port: config.PORT });
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void app
      .close()
      .then(() => driver.close())
      .then(() => pool.end())
      .then(() => process.exit(0));
  });
}
