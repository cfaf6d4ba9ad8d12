import { type ConfigOf, envInt, envOptional, envString, envUrl, loadConfig } from '@taidon/kit';

/** Every environment variable sql-runner reads. */
export const sqlRunnerConfigSpec = {
  SERVICE_TOKEN: envString('Shared secret the gateway and services present to each other.', { secret: true }),
  SQL_RUNNER_ENGINE_VERSION: envOptional(
    'PostgreSQL version of the sandbox engine, part of every state key (K0). Default: the version of the bundled `postgres` binary.',
  ),
  SQL_RUNNER_DATABASE_URL: envUrl(
    "Connection URL of sql-runner's own role on the control-plane PostgreSQL (schema `sql_runner`).",
    {
      secret: true,
      protocols: ['postgres:', 'postgresql:'],
    },
  ),
  ENV_MANAGER_URL: envUrl('Base URL of env-manager (sandbox instances).'),
  SNAPSHOT_CACHE_URL: envUrl('Base URL of snapshot-cache (cached layers).'),
  USER_PROFILE_URL: envOptional(
    'Base URL of user-profile, where account quotas come from; unset, no run-rate or instance quota is enforced.',
  ),
  RUN_MAX_ROWS: envInt('Rows of one result set sent to the learner before it is truncated.', {
    default: 100_000,
    min: 1,
    max: 10_000_000,
  }),
  RUN_MAX_BYTES: envInt('Bytes of values of one result set sent before it is truncated.', {
    default: 16 * 1024 * 1024,
    min: 1024,
    max: 1024 * 1024 * 1024,
  }),
  RUN_DATABASE_MAX_BYTES: envInt(
    'Size a sandbox database may reach: a statement that grows it further is cancelled with SQLSTATE 53100 (0: no cap).',
    { default: 1024 ** 3, min: 0 },
  ),
  RUN_STATEMENT_TIMEOUT_MS: envInt(
    'Wall-clock bound of one statement; the runner cancels it itself, whatever statement_timeout the learner set.',
    { default: 30_000, min: 100, max: 3_600_000 },
  ),
  RUN_LAYER_EVERY_MS: envInt('During a replay, take a layer once this much time passed since the last one.', {
    default: 2_000,
    min: 0,
    max: 3_600_000,
  }),
  RUN_WARM_POOL_EMPTY: envInt(
    'Started instances of the empty database (K0) env-manager keeps ready, so a first run takes one instead of starting one.',
    { default: 2, min: 0, max: 100 },
  ),
  HOST: envString('Address to listen on.', { default: '127.0.0.1' }),
  PORT: envInt('Port to listen on.', { default: 8082, min: 0, max: 65_535 }),
  LOG_LEVEL: envString('pino log level.', { default: 'info' }),
};

/** sql-runner's validated, frozen configuration. */
export type SqlRunnerConfig = ConfigOf<typeof sqlRunnerConfigSpec>;

/** Reads sql-runner's configuration from the environment, reporting every bad variable at once. */
export function loadSqlRunnerConfig(env: NodeJS.ProcessEnv = process.env): SqlRunnerConfig {
  return loadConfig(sqlRunnerConfigSpec, env);
}
