import { join } from 'node:path';
import { loadAuditLogConfig, startAuditLog } from '@taidon/audit-log';
import { loadEnvManagerConfig, startEnvManager } from '@taidon/env-manager';
import { loadGatewayConfig, startGateway } from '@taidon/gateway';
import { loadIdpConfig, startIdp } from '@taidon/idp';
import type { ServiceDatabase } from '@taidon/kit';
import { createLogger } from '@taidon/kit';
import { loadSnapshotCacheConfig, startSnapshotCache } from '@taidon/snapshot-cache';
import { loadSqlRunnerConfig, startSqlRunner } from '@taidon/sql-runner';
import { loadUserProfileConfig, startUserProfile } from '@taidon/user-profile';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { imageMountedAt, unmountLayerStore } from './layer-store.js';
import type { LocalSecrets } from './secrets.js';

/** Services that keep state in the control plane, each with its own role and schema. */
export const STATEFUL_SERVICES = [
  'audit-log',
  'user-profile',
  'idp',
  'snapshot-cache',
  'env-manager',
  'sql-runner',
] as const;

/** What the launcher must close when it stops, in the order started (closed in reverse). */
export interface Running {
  services: { name: string; close(): Promise<void> }[];
}

/** Everything the services are started from. */
export interface LaunchContext {
  dataDir: string;
  logLevel: string;
  secrets: LocalSecrets;
  databases: Record<string, ServiceDatabase>;
  /** Superuser URL of the control-plane database; with it audit-log's table is sealed (owned by a NOLOGIN role). */
  superuserUrl?: string;
  /** Each service's logger; by default pino JSON on stdout with the service named. */
  logger?: (service: string) => Logger;
}

function database(context: LaunchContext, service: string): string {
  const db = context.databases[service];
  if (!db) throw new Error(`${service} has no control-plane database`);
  return db.url;
}

/** Where each service listens (loopback). */
export interface ServiceUrls {
  auditLogUrl: string;
  userProfileUrl: string;
  idpUrl: string;
  snapshotCacheUrl: string;
  envManagerUrl: string;
  sqlRunnerUrl: string;
}

/**
 * Starts audit-log, user-profile, idp, snapshot-cache, env-manager and
 * sql-runner on loopback ports, each with its own start function (the one its
 * server.ts calls) and configured by its own loader from the environment (so
 * every documented variable works here too) with the launcher's values for
 * URLs, secrets and paths. Returns their URLs.
 */
export async function startServices(context: LaunchContext, running: Running): Promise<ServiceUrls> {
  const level = context.logLevel;
  const env = (own: Record<string, string>): NodeJS.ProcessEnv => ({
    ...process.env,
    SERVICE_TOKEN: context.secrets.serviceToken,
    LOG_LEVEL: level,
    ...own,
  });
  const logger = context.logger ?? ((service: string) => createLogger({ service, level }));
  const listen = async (name: string, service: { app: FastifyInstance; close(): Promise<void> }) => {
    running.services.push({ name, close: () => service.close() });
    return service.app.listen({ host: '127.0.0.1', port: 0 });
  };

  // First, so every other service's events have somewhere to go from their first request.
  const auditLogUrl = await listen(
    'audit-log',
    await startAuditLog(
      loadAuditLogConfig(
        env({
          AUDIT_LOG_DATABASE_URL: database(context, 'audit-log'),
          ...(context.superuserUrl ? { AUDIT_LOG_SUPERUSER_URL: context.superuserUrl } : {}),
        }),
      ),
      { logger: logger('audit-log') },
    ),
  );

  const userProfileUrl = await listen(
    'user-profile',
    await startUserProfile(
      loadUserProfileConfig(env({ USER_PROFILE_DATABASE_URL: database(context, 'user-profile') })),
      {
        logger: logger('user-profile'),
      },
    ),
  );

  const idpUrl = await listen(
    'idp',
    await startIdp(
      loadIdpConfig(env({ IDP_DATABASE_URL: database(context, 'idp'), USER_PROFILE_URL: userProfileUrl })),
      {
        logger: logger('idp'),
      },
    ),
  );

  const cacheConfig = loadSnapshotCacheConfig(
    env({
      SNAPSHOT_CACHE_DATABASE_URL: database(context, 'snapshot-cache'),
      SNAPSHOT_CACHE_ROOT: process.env.SNAPSHOT_CACHE_ROOT ?? join(context.dataDir, 'layers'),
    }),
  );
  // An image an earlier run mounted and never unmounted (it was killed) is this run's to unmount when it stops,
  // after snapshot-cache has closed (services close in reverse order).
  const root = cacheConfig.SNAPSHOT_CACHE_ROOT;
  const image = cacheConfig.SNAPSHOT_CACHE_BTRFS_IMAGE ?? `${root.replace(/\/+$/, '')}.img`;
  if (await imageMountedAt(root, image))
    running.services.push({ name: 'layer store', close: () => unmountLayerStore(root) });
  const snapshotCacheUrl = await listen(
    'snapshot-cache',
    await startSnapshotCache(cacheConfig, { logger: logger('snapshot-cache') }),
  );

  const envManagerUrl = await listen(
    'env-manager',
    await startEnvManager(
      loadEnvManagerConfig(
        env({
          ENV_MANAGER_DATABASE_URL: database(context, 'env-manager'),
          SNAPSHOT_CACHE_URL: snapshotCacheUrl,
          SANDBOX_ADMIN_PASSWORD: context.secrets.sandboxAdminPassword,
          INSTANCE_RUN_DIR: process.env.INSTANCE_RUN_DIR ?? join(context.dataDir, 'run'),
          AUDIT_LOG_URL: auditLogUrl,
          AUDIT_OUTBOX_FILE: join(context.dataDir, 'outbox', 'env-manager.jsonl'),
        }),
      ),
      { logger: logger('env-manager'), stopInstancesOnClose: true },
    ),
  );

  const sqlRunnerUrl = await listen(
    'sql-runner',
    await startSqlRunner(
      loadSqlRunnerConfig(
        env({
          SQL_RUNNER_DATABASE_URL: database(context, 'sql-runner'),
          ENV_MANAGER_URL: envManagerUrl,
          SNAPSHOT_CACHE_URL: snapshotCacheUrl,
          USER_PROFILE_URL: userProfileUrl,
        }),
      ),
      { logger: logger('sql-runner') },
    ),
  );
  return { auditLogUrl, userProfileUrl, idpUrl, snapshotCacheUrl, envManagerUrl, sqlRunnerUrl };
}

/**
 * The gateway's environment in front of services started by startServices: rate limits, body limit, CORS and
 * SPA_DIR come from the launcher's environment, as for a standalone gateway; its outbox lives in the data
 * directory, so events survive an audit-log outage and a restart.
 */
export function gatewayEnv(urls: ServiceUrls, context: LaunchContext): Record<string, string> {
  return {
    IDP_URL: urls.idpUrl,
    SQL_RUNNER_URL: urls.sqlRunnerUrl,
    AUDIT_LOG_URL: urls.auditLogUrl,
    AUDIT_OUTBOX_FILE: join(context.dataDir, 'outbox', 'gateway.jsonl'),
    USER_PROFILE_URL: urls.userProfileUrl,
    ENV_MANAGER_URL: urls.envManagerUrl,
    SERVICE_TOKEN: context.secrets.serviceToken,
    ACCESS_TOKEN_ISSUER: 'taidon-idp',
    ACCESS_TOKEN_AUDIENCE: 'taidon',
    UPSTREAM_TIMEOUT_MS: '60000',
    LOG_LEVEL: context.logLevel,
  };
}

/** Starts the gateway with its own start function in front of the services; returns it for the caller to listen. */
export async function startLocalGateway(urls: ServiceUrls, context: LaunchContext, running: Running) {
  const config = loadGatewayConfig({ ...process.env, ...gatewayEnv(urls, context) });
  const logger = context.logger ?? ((service: string) => createLogger({ service, level: context.logLevel }));
  const gateway = await startGateway(config, { logger: logger('gateway') });
  running.services.push({ name: 'gateway', close: () => gateway.close() });
  return gateway.app;
}
