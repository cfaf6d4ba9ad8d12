export { createBaseApp, type BaseAppOptions } from './base-app.js';
export {
  ConfigError,
  envEnum,
  envInt,
  envOptional,
  envString,
  envUrl,
  loadConfig,
  type ConfigOf,
  type EnvVar,
} from './config.js';
export { DomainError, NotFoundError, UnauthorizedError, UnavailableError, UnprocessableError } from './errors.js';
export { CommandError, runCommand, type CommandResult, type RunCommandOptions } from './exec.js';
export { registerHealth, type ReadinessCheck } from './health.js';
export { createLogger, REDACTED_PATHS, type LoggerSettings } from './logger.js';
export { createMetricsRegistry, registerMetrics } from './metrics.js';
export { MigrationChecksumError, migrate } from './migrations.js';
export { chownTree, serverOsUser, SERVER_OS_USER, type OsUser } from './os-user.js';
export { createPool, pingPool } from './pg.js';
export { freePort, postgresVersion, startPostgresServer, type PostgresServer, type PostgresServerOptions } from './pg-server.js';
export { KIT_ERROR_CODES, PROBLEM_CONTENT_TYPE, problem, registerProblemHandler, type ProblemBody } from './problem.js';
export { provisionServiceDatabase, type ServiceDatabase } from './provision.js';
export { ACCOUNT_HEADER, requireServiceToken, ROLE_HEADER, SERVICE_TOKEN_HEADER } from './service-auth.js';
