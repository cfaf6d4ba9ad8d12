export { buildApp, type SqlRunnerDeps } from './app.js';
export { loadSqlRunnerConfig, sqlRunnerConfigSpec, type SqlRunnerConfig } from './config.js';
export { SANDBOX_RESULT_SETTINGS, type EngineIdentity } from './domain/engine.js';
export { SQL_RUNNER_ERROR_CODES } from './errors.js';
