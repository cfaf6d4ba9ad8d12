export { buildApp, type EnvManagerDeps, templateSettings } from './app.js';
export {
  createSnapshotCacheClient,
  type DriverInfo,
  type Layer,
  type SnapshotCacheClient,
  type SnapshotCacheClientOptions,
  type Volume,
} from './clients/snapshot-cache.js';
export { type EnvManagerConfig, envManagerConfigSpec, loadEnvManagerConfig } from './config.js';
export {
  type ConnectionInfo,
  type CreateInstanceInput,
  InstanceManager,
  type InstanceSource,
  type InstanceView,
  TEMPLATE_POOL_KEY,
} from './domain/instances.js';
export { expireInstances, type ReconcileSummary, reconcile } from './domain/maintenance.js';
export { INSTANCE_STATES, type InstanceState } from './domain/states.js';
export { WarmPool } from './domain/warm-pool.js';
export {
  type EngineIdentity,
  engineIdentity,
  SANDBOX_ADMIN_USER,
  SANDBOX_DATABASE,
  SANDBOX_USER,
  TEMPLATE_VERSION,
  type TemplateSettings,
} from './engine/template.js';
export { ENV_MANAGER_ERROR_CODES } from './errors.js';
export { ENV_MANAGER_MIGRATIONS_DIR, migrateEnvManager } from './migrate.js';
export { cgroupOptions, createLocalRuntime, type LocalRuntimeOptions } from './runtimes/local.js';
export type { Runtime, RuntimeLimits, StartedServer } from './runtimes/runtime.js';
export { type StartEnvManagerOptions, type StartedEnvManager, startEnvManager } from './start.js';
