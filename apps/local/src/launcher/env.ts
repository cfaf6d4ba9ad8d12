import { join } from 'node:path';
import type { ServiceDatabase } from '@taidon/kit';
import type { Logger } from 'pino';
import type { LocalSecrets } from './secrets.js';

// What each service is started with under the launcher. No service is imported here: the launcher of `npm start`
// runs them as processes and needs only their environment.

/** Services that keep state in the control plane, each with its own role and schema. */
export const STATEFUL_SERVICES = [
  'audit-log',
  'user-profile',
  'idp',
  'snapshot-cache',
  'env-manager',
  'sql-runner',
  'vcs-sync',
  'exercises',
] as const;

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
  vcsSyncUrl: string;
  exercisesUrl: string;
}

/** Every service of the platform, in the order they start (each needs only those before it); they stop in reverse. */
export const PLATFORM_SERVICES = [...STATEFUL_SERVICES, 'gateway'] as const;
export type PlatformService = (typeof PLATFORM_SERVICES)[number];

/** Where the layer store lives under the launcher (SNAPSHOT_CACHE_ROOT may move it). */
export function layerRoot(context: Pick<LaunchContext, 'dataDir'>): string {
  return process.env.SNAPSHOT_CACHE_ROOT ?? join(context.dataDir, 'layers');
}

/**
 * A service's own variables under the launcher: its database, the URLs of the services before it, secrets and
 * paths under the data directory. Everything else comes from the launcher's environment, so every variable a
 * service's README documents works here too.
 */
export function serviceEnv(
  service: PlatformService,
  context: LaunchContext,
  urls: Partial<ServiceUrls>,
): Record<string, string> {
  const url = (name: keyof ServiceUrls): string => {
    const found = urls[name];
    if (!found) throw new Error(`${service} starts after the service at ${name}`);
    return found;
  };
  const common = { SERVICE_TOKEN: context.secrets.serviceToken, LOG_LEVEL: context.logLevel };
  switch (service) {
    case 'audit-log':
      return {
        ...common,
        AUDIT_LOG_DATABASE_URL: database(context, 'audit-log'),
        ...(context.superuserUrl ? { AUDIT_LOG_SUPERUSER_URL: context.superuserUrl } : {}),
      };
    case 'user-profile':
      return {
        ...common,
        USER_PROFILE_DATABASE_URL: database(context, 'user-profile'),
        AUDIT_LOG_URL: url('auditLogUrl'),
        AUDIT_OUTBOX_FILE: join(context.dataDir, 'outbox', 'user-profile.jsonl'),
      };
    case 'idp':
      return { ...common, IDP_DATABASE_URL: database(context, 'idp'), USER_PROFILE_URL: url('userProfileUrl') };
    case 'snapshot-cache':
      return {
        ...common,
        SNAPSHOT_CACHE_DATABASE_URL: database(context, 'snapshot-cache'),
        SNAPSHOT_CACHE_ROOT: layerRoot(context),
      };
    case 'env-manager':
      return {
        ...common,
        ENV_MANAGER_DATABASE_URL: database(context, 'env-manager'),
        SNAPSHOT_CACHE_URL: url('snapshotCacheUrl'),
        SANDBOX_ADMIN_PASSWORD: context.secrets.sandboxAdminPassword,
        INSTANCE_RUN_DIR: process.env.INSTANCE_RUN_DIR ?? join(context.dataDir, 'run'),
        AUDIT_LOG_URL: url('auditLogUrl'),
        AUDIT_OUTBOX_FILE: join(context.dataDir, 'outbox', 'env-manager.jsonl'),
      };
    case 'sql-runner':
      return {
        ...common,
        SQL_RUNNER_DATABASE_URL: database(context, 'sql-runner'),
        ENV_MANAGER_URL: url('envManagerUrl'),
        SNAPSHOT_CACHE_URL: url('snapshotCacheUrl'),
        USER_PROFILE_URL: url('userProfileUrl'),
        // Project tails are read there; sql-runner calls it only for such a tail, so it may start first.
        VCS_SYNC_URL: url('vcsSyncUrl'),
      };
    case 'vcs-sync':
      return {
        ...common,
        VCS_SYNC_DATABASE_URL: database(context, 'vcs-sync'),
        VCS_SYNC_DATA_DIR: process.env.VCS_SYNC_DATA_DIR ?? join(context.dataDir, 'projects'),
        VCS_SYNC_TOKEN_KEY: context.secrets.vcsSyncTokenKey,
        USER_PROFILE_URL: url('userProfileUrl'),
        AUDIT_LOG_URL: url('auditLogUrl'),
        AUDIT_OUTBOX_FILE: join(context.dataDir, 'outbox', 'vcs-sync.jsonl'),
      };
    case 'exercises':
      return {
        ...common,
        EXERCISES_DATABASE_URL: database(context, 'exercises'),
        // Graded on sql-runner's throwaway clones; it calls sql-runner only when an exercise is published.
        SQL_RUNNER_URL: url('sqlRunnerUrl'),
        // A pack imported from a project is read there.
        VCS_SYNC_URL: url('vcsSyncUrl'),
        AUDIT_LOG_URL: url('auditLogUrl'),
        AUDIT_OUTBOX_FILE: join(context.dataDir, 'outbox', 'exercises.jsonl'),
      };
    case 'gateway':
      return gatewayEnv(urls as ServiceUrls, context);
  }
}

/** The layer store's image file (the btrfs driver's default beside its root). */
export function layerImage(config: { SNAPSHOT_CACHE_ROOT: string; SNAPSHOT_CACHE_BTRFS_IMAGE?: string | undefined }) {
  return config.SNAPSHOT_CACHE_BTRFS_IMAGE ?? `${config.SNAPSHOT_CACHE_ROOT.replace(/\/+$/, '')}.img`;
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
    VCS_SYNC_URL: urls.vcsSyncUrl,
    EXERCISES_URL: urls.exercisesUrl,
    SNAPSHOT_CACHE_URL: urls.snapshotCacheUrl,
    SERVICE_TOKEN: context.secrets.serviceToken,
    ACCESS_TOKEN_ISSUER: 'taidon-idp',
    ACCESS_TOKEN_AUDIENCE: 'taidon',
    UPSTREAM_TIMEOUT_MS: '60000',
    LOG_LEVEL: context.logLevel,
  };
}
