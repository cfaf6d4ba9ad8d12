export { type AuditRecord, type AuditSink, type AuditSinkOptions, createAuditSink } from './audit.js';
export { type BaseAppOptions, createBaseApp, REQUEST_ID_FORMAT } from './base-app.js';
export {
  ConfigError,
  type ConfigOf,
  type EnvVar,
  envEnum,
  envInt,
  envOptional,
  envString,
  envUrl,
  loadConfig,
} from './config.js';
export {
  CONNECTION_LIMIT_ERROR_CATALOGUE,
  type ConnectionLimits,
  DEFAULT_CONNECTION_LIMITS,
  TOO_MANY_CONNECTIONS,
} from './connection-limits.js';
export {
  type CatalogueErrorOptions,
  catalogueErrorClass,
  DomainError,
  type ErrorCatalogue,
  type ErrorSpec,
  NotFoundError,
  UnauthorizedError,
  UnavailableError,
  UnprocessableError,
} from './errors.js';
export { CommandError, type CommandResult, type RunCommandOptions, renice, runCommand } from './exec.js';
export { type ReadinessCheck, registerHealth } from './health.js';
export { type HttpRequest, type HttpResponse, sendRequest, streamRequest } from './http-client.js';
export { createLogger, type LoggerSettings, REDACTED_PATHS } from './logger.js';
export { createMetricsRegistry, registerMetrics } from './metrics.js';
export { MigrationChecksumError, migrate } from './migrations.js';
export { chownTree, type OsUser, SERVER_OS_USER, serverOsUser } from './os-user.js';
export { boundToParent, setprivPath } from './parent-death.js';
export { createPool, pingPool, withTransaction } from './pg.js';
export {
  freePort,
  type PostgresServer,
  type PostgresServerOptions,
  postgresVersion,
  type ServerBinaries,
  serverBinaries,
  startPostgresServer,
} from './pg-server.js';
export {
  KIT_ERROR_CATALOGUE,
  PROBLEM_CONTENT_TYPE,
  type ProblemBody,
  problem,
  rawProblemResponse,
  registerProblemHandler,
} from './problem.js';
export { provisionServiceDatabase, type ServiceDatabase } from './provision.js';
export { ACCOUNT_HEADER, ROLE_HEADER, requireServiceToken, SERVICE_TOKEN_HEADER } from './service-auth.js';
export {
  callService,
  callServiceRaw,
  currentRequestId,
  detached,
  registerHopContext,
  type ServiceCallOptions,
  type ServiceEndpoint,
} from './service-client.js';
export { processSpawner, Spawner, type StartedProcess } from './spawner.js';
export {
  type BatchOutcome,
  type BatchRefusalFields,
  batchRefusalOf,
  errorOfBatchRefusal,
  TurnBatches,
} from './turn-batches.js';
