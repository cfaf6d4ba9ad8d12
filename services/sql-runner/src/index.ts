export { buildApp, type SqlRunnerDeps } from './app.js';
export { loadSqlRunnerConfig, type SqlRunnerConfig, sqlRunnerConfigSpec } from './config.js';
export { type EngineIdentity, SANDBOX_RESULT_SETTINGS } from './domain/engine.js';
export { SQL_RUNNER_ERROR_CODES } from './errors.js';
