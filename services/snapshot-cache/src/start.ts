import { createHash } from 'node:crypto';
import { createPool } from '@taidon/kit';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
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

/** The schema of a node agent's records: layers are node-local, so each node's agent has its own (ADR 0045). */
export function nodeSchema(node: string): string {
  return `snapshot_cache_node_${createHash('sha256').update(node).digest('hex').slice(0, 16)}`;
}

/**
 * The database URL the pool uses: as configured, or, for a node agent (SNAPSHOT_CACHE_NODE_NAME), with its node's
 * schema made (if new) and set as the search_path of every connection, so migrations and queries stay there.
 */
async function recordsUrl(config: SnapshotCacheConfig): Promise<string> {
  const node = config.SNAPSHOT_CACHE_NODE_NAME;
  if (!node) return config.SNAPSHOT_CACHE_DATABASE_URL;
  const schema = nodeSchema(node);
  const client = new pg.Client({ connectionString: config.SNAPSHOT_CACHE_DATABASE_URL });
  client.on('error', () => {});
  await client.connect();
  try {
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
  } finally {
    await client.end().catch(() => {});
  }
  const url = new URL(config.SNAPSHOT_CACHE_DATABASE_URL);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return url.toString();
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
  const pool = createPool(await recordsUrl(config), { applicationName: 'taidon-snapshot-cache' });
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
