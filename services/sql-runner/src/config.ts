import { type ConfigOf, envInt, envOptional, envString, loadConfig } from '@taidon/kit';

/** Every environment variable sql-runner reads. */
export const sqlRunnerConfigSpec = {
  SERVICE_TOKEN: envString('Shared secret the gateway and services present to each other.', { secret: true }),
  SQL_RUNNER_ENGINE_VERSION: envOptional(
    'PostgreSQL version of the sandbox engine, part of every state key (K0). Default: the version of the bundled `postgres` binary.',
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
