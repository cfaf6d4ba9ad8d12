import { createLogger, createPool } from '@taidon/kit';
import { buildApp } from './app.js';
import { createSnapshotCacheClient } from './clients/snapshot-cache.js';
import { loadEnvManagerConfig } from './config.js';
import { migrateEnvManager } from './migrate.js';
import { cgroupOptions, createLocalRuntime } from './runtimes/local.js';

// The only file of env-manager that touches process.*: config, logger, app, listen, graceful close.
// Standalone, stopInstancesOnClose is off: the servers stop with the process (ADR 0024), and the next start takes
// their instances over (Suspended, resumed by their next run).
const config = loadEnvManagerConfig();
const logger = createLogger({ service: 'env-manager', level: config.LOG_LEVEL });
const pool = createPool(config.ENV_MANAGER_DATABASE_URL, { applicationName: 'taidon-env-manager' });
await migrateEnvManager(pool);
const runtime = await createLocalRuntime({
  runDir: config.INSTANCE_RUN_DIR,
  limits: {
    memoryMaxBytes: config.INSTANCE_MEMORY_MAX_BYTES,
    pidsMax: config.INSTANCE_PIDS_MAX,
    cpuMax: config.INSTANCE_CPU_MAX,
  },
  ...cgroupOptions(config.INSTANCE_CGROUPS),
  logger,
});
const snapshotCache = createSnapshotCacheClient({
  baseUrl: config.SNAPSHOT_CACHE_URL,
  serviceToken: config.SERVICE_TOKEN,
});
const app = buildApp({ config, pool, logger, snapshotCache, runtime });
await app.listen({ host: config.HOST, port: config.PORT });
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void app
      .close()
      .then(() => pool.end())
      .then(() => process.exit(0));
  });
}
