export { buildApp, type SqlRunnerDeps } from './app.js';
export { EnvManagerClient } from './clients/env-manager.js';
export { loadSqlRunnerConfig, type SqlRunnerConfig, sqlRunnerConfigSpec } from './config.js';
export { type EngineIdentity, SANDBOX_RESULT_SETTINGS } from './domain/engine.js';
export { engineIdentity } from './domain/engine-info.js';
export { createRunnerDeps } from './domain/runs/deps.js';
export { SQL_RUNNER_ERROR_CODES } from './errors.js';
export { migrateSqlRunner, SQL_RUNNER_MIGRATIONS_DIR } from './migrate.js';
export { type StartedSqlRunner, startSqlRunner } from './start.js';
