import type pg from 'pg';
import type { Logger } from 'pino';
import { EnvManagerClient } from '../../clients/env-manager.js';
import { SnapshotCacheClient } from '../../clients/snapshot-cache.js';
import type { SqlRunnerConfig } from '../../config.js';
import { SessionConnections } from './connections.js';
import type { RunnerDeps } from './context.js';
import { InstanceUses } from './instance-uses.js';
import { RunQuota } from './quota.js';
import { KeyLocks } from './start-state/key-locks.js';
import { KnownLayers } from './start-state/known-layers.js';
import { PreparedConnections } from './start-state/prepared-connections.js';

/** Rows per `rows` event: small enough for the first row to show at once, large enough for 100k rows to stream fast. */
const CHUNK_ROWS = 500;
/** How often the runner looks for new warm-pool instances to connect to ahead of runs. */
const PREPARED_REFRESH_MS = 100;
/** How long instance uses wait to be told to env-manager together (see instance-uses.ts). */
const USES_FLUSH_MS = 100;
/** Runs one account may have open at once when the caller's configuration does not say (RUN_MAX_OPEN_PER_ACCOUNT). */
const DEFAULT_MAX_OPEN_RUNS = 4;

/** The run machinery of sql-runner from its configuration and its pool. */
export function createRunnerDeps(
  config: Pick<
    SqlRunnerConfig,
    | 'SERVICE_TOKEN'
    | 'ENV_MANAGER_URL'
    | 'SNAPSHOT_CACHE_URL'
    | 'RUN_MAX_ROWS'
    | 'RUN_MAX_BYTES'
    | 'RUN_STATEMENT_TIMEOUT_MS'
    | 'RUN_LAYER_EVERY_MS'
    | 'RUN_DATABASE_MAX_BYTES'
  > &
    Partial<Pick<SqlRunnerConfig, 'USER_PROFILE_URL' | 'RUN_MAX_OPEN_PER_ACCOUNT'>>,
  pool: pg.Pool,
  logger?: Pick<Logger, 'warn'>,
): RunnerDeps {
  const endpoint = (name: string, baseUrl: string) => ({
    name,
    baseUrl,
    serviceToken: config.SERVICE_TOKEN,
    timeoutMs: 60_000,
  });
  const connections = new SessionConnections();
  const envManager = new EnvManagerClient(endpoint('env-manager', config.ENV_MANAGER_URL));
  return {
    pool,
    envManager,
    prepared: new PreparedConnections({ envManager, intervalMs: PREPARED_REFRESH_MS }),
    snapshotCache: new SnapshotCacheClient(endpoint('snapshot-cache', config.SNAPSHOT_CACHE_URL)),
    connections,
    uses: new InstanceUses(
      (uses) => envManager.touchMany(uses),
      USES_FLUSH_MS,
      // Not retried: an instance run again is marked again; one that is not was last used before.
      (error) => logger?.warn({ err: error }, 'could not tell env-manager which instances runs used'),
    ),
    locks: new KeyLocks(),
    knownLayers: new KnownLayers(),
    limits: { maxRows: config.RUN_MAX_ROWS, maxBytes: config.RUN_MAX_BYTES, chunkRows: CHUNK_ROWS },
    statementTimeoutMs: config.RUN_STATEMENT_TIMEOUT_MS,
    layerEveryMs: config.RUN_LAYER_EVERY_MS,
    databaseMaxBytes: config.RUN_DATABASE_MAX_BYTES,
    ...(config.USER_PROFILE_URL
      ? {
          quota: new RunQuota({
            userProfile: { ...endpoint('user-profile', config.USER_PROFILE_URL), timeoutMs: 5_000 },
            envManager: { ...endpoint('env-manager', config.ENV_MANAGER_URL), timeoutMs: 30_000 },
            pool,
            dropConnection: (sessionId) => connections.drop(sessionId),
            maxOpenRuns: config.RUN_MAX_OPEN_PER_ACCOUNT ?? DEFAULT_MAX_OPEN_RUNS,
          }),
        }
      : {}),
  };
}
