import { chmod, mkdtemp, rm, rmdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { captureLogger, createTestDatabase } from '@taidon/kit/testing';
import { buildApp as buildSnapshotCache, createDriver, migrateSnapshotCache } from '@taidon/snapshot-cache';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { buildApp, type EnvManagerDeps, templateSettings } from '../../src/app.js';
import { createSnapshotCacheClient, type SnapshotCacheClient } from '../../src/clients/snapshot-cache.js';
import { type EnvManagerConfig, loadEnvManagerConfig } from '../../src/config.js';
import { InstanceManager } from '../../src/domain/instances.js';
import { createEnvManagerMetrics } from '../../src/metrics.js';
import { migrateEnvManager } from '../../src/migrate.js';
import { createLocalRuntime } from '../../src/runtimes/local.js';
import type { Runtime } from '../../src/runtimes/runtime.js';

export const SERVICE_TOKEN = 'test-service-token';

/** The whole stack of one test file: a real snapshot-cache (copy driver) and env-manager on real databases. */
export interface Stack {
  config: EnvManagerConfig;
  pool: pg.Pool;
  runtime: Runtime;
  snapshotCache: SnapshotCacheClient;
  /** A manager on the same database, for tests that drive the domain directly. */
  manager: InstanceManager;
  /** env-manager's app (not listening; use inject). */
  app: FastifyInstance;
  root: string;
  lines: () => string[];
  /** snapshot-cache's log lines, to follow a request id across the hop. */
  cacheLines: () => string[];
  close(): Promise<void>;
}

/** Builds snapshot-cache with its own buildApp on a temporary root, and env-manager on top of it. */
export async function createStack(
  options: { env?: Record<string, string>; deps?: Partial<EnvManagerDeps> } = {},
): Promise<Stack> {
  const root = await mkdtemp(join(tmpdir(), 'ems-'));
  await chmod(root, 0o755);
  const { logger, lines } = captureLogger('env-manager');
  const scDb = await createTestDatabase('sc');
  const emDb = await createTestDatabase('em');
  const scPool = new pg.Pool({ connectionString: scDb.url, max: 4 });
  await migrateSnapshotCache(scPool);
  const driver = await createDriver({
    SNAPSHOT_CACHE_ROOT: join(root, 'cache'),
    SNAPSHOT_CACHE_DRIVER: 'copy',
    SNAPSHOT_CACHE_BTRFS_IMAGE: undefined,
    SNAPSHOT_CACHE_BTRFS_IMAGE_BYTES: 1024 ** 3,
    SNAPSHOT_CACHE_BTRFS_QUOTAS: 'off',
    SNAPSHOT_CACHE_BTRFS_IMAGE_BARRIERS: 'off',
    SNAPSHOT_CACHE_ZFS_DATASET: undefined,
    SNAPSHOT_CACHE_LVM_VG: undefined,
    SNAPSHOT_CACHE_LVM_POOL: undefined,
    SNAPSHOT_CACHE_LVM_VOLUME_BYTES: 1024 ** 3,
  });
  await driver.prepare();
  const cacheLog = captureLogger('snapshot-cache');
  const cacheApp = buildSnapshotCache({
    config: {
      SERVICE_TOKEN,
      SNAPSHOT_CACHE_BUDGET_BYTES: 10 * 1024 ** 3,
      SNAPSHOT_CACHE_EVICTION_HALF_LIFE_SECONDS: 86_400,
    },
    pool: scPool,
    driver,
    logger: cacheLog.logger,
  });
  const cacheUrl = await cacheApp.listen({ host: '127.0.0.1', port: 0 });
  const config = loadEnvManagerConfig({
    ENV_MANAGER_DATABASE_URL: emDb.url,
    SNAPSHOT_CACHE_URL: cacheUrl,
    SERVICE_TOKEN,
    SANDBOX_ADMIN_PASSWORD: 'test-admin-password',
    INSTANCE_RUN_DIR: join(root, 'run'),
    RECONCILE_INTERVAL_MS: '60000',
    ...options.env,
  });
  const pool = new pg.Pool({ connectionString: emDb.url, max: 8 });
  await migrateEnvManager(pool);
  const runtime = await createLocalRuntime({
    runDir: config.INSTANCE_RUN_DIR,
    limits: {
      memoryMaxBytes: config.INSTANCE_MEMORY_MAX_BYTES,
      pidsMax: config.INSTANCE_PIDS_MAX,
      cpuMax: config.INSTANCE_CPU_MAX,
    },
    logger,
    cgroupName: `taidon-test-${process.pid}`,
  });
  const snapshotCache = createSnapshotCacheClient({ baseUrl: cacheUrl, serviceToken: SERVICE_TOKEN });
  const manager = new InstanceManager({
    pool,
    runtime,
    snapshotCache,
    metrics: createEnvManagerMetrics(pool),
    settings: templateSettings(config),
    adminPassword: config.SANDBOX_ADMIN_PASSWORD,
    startTimeoutMs: config.INSTANCE_START_TIMEOUT_MS,
  });
  const app = buildApp({
    config,
    pool,
    logger,
    snapshotCache,
    runtime,
    stopInstancesOnClose: true,
    runLoops: false,
    ...options.deps,
  });
  await app.ready();
  return {
    config,
    pool,
    runtime,
    snapshotCache,
    manager,
    app,
    root,
    lines,
    cacheLines: cacheLog.lines,
    async close() {
      await app.close();
      // Whatever a test left running (including via `manager`) is stopped before its volume goes.
      const { rows } = await pool.query<{ id: string; pid: number }>(
        'SELECT id, pid FROM instances WHERE pid IS NOT NULL',
      );
      for (const row of rows) await runtime.kill(row.id, row.pid).catch(() => {});
      await cacheApp.close();
      await driver.close();
      await pool.end();
      await scPool.end();
      await emDb.drop();
      await scDb.drop();
      if (runtime.limits.cgroupParent) await rmdir(runtime.limits.cgroupParent).catch(() => {});
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** A random state key (64 hex digits). */
export function randomKey(): string {
  return [...crypto.getRandomValues(new Uint8Array(32))].map((b) => b.toString(16).padStart(2, '0')).join('');
}
