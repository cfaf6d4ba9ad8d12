import { join } from 'node:path';
import { buildApp as buildAuditLog, loadAuditLogConfig, migrateAuditLog, sealAuditLog } from '@taidon/audit-log';
import {
  buildApp as buildEnvManager,
  cgroupOptions,
  createLocalRuntime,
  createSnapshotCacheClient,
  loadEnvManagerConfig,
  migrateEnvManager,
} from '@taidon/env-manager';
import { buildApp as buildIdp, loadIdpConfig, migrateIdp } from '@taidon/idp';
import type { ServiceDatabase } from '@taidon/kit';
import { type AuditSink, createAuditSink, createLogger, createPool, loadConfig } from '@taidon/kit';
import {
  buildApp as buildSnapshotCache,
  createDriver,
  loadSnapshotCacheConfig,
  migrateSnapshotCache,
  reconcile,
} from '@taidon/snapshot-cache';
import {
  buildApp as buildSqlRunner,
  createRunnerDeps,
  EnvManagerClient,
  engineIdentity,
  loadSqlRunnerConfig,
  migrateSqlRunner,
} from '@taidon/sql-runner';
import { buildApp as buildUserProfile, loadUserProfileConfig, migrateUserProfile } from '@taidon/user-profile';
import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import type { Logger } from 'pino';
import { hardeningConfigSpec } from '../hardening.js';
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

/** What the launcher must close, in order, when it stops. */
export interface Running {
  apps: FastifyInstance[];
  pools: pg.Pool[];
  /** Unmounts what the storage driver mounted. */
  closeDriver: () => Promise<void>;
}

/** Everything the services are started from. */
export interface LaunchContext {
  dataDir: string;
  logLevel: string;
  secrets: LocalSecrets;
  databases: Record<string, ServiceDatabase>;
  /** Superuser URL of the control-plane database; with it audit-log's table is sealed (owned by a NOLOGIN role). */
  superuserUrl?: string;
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
 * Starts audit-log, user-profile, idp, snapshot-cache, env-manager and sql-runner as separate fastify
 * apps on loopback ports, each configured by its own loader from the
 * environment (so every documented variable works here too) with the
 * launcher's values for URLs, secrets and paths. Returns their URLs.
 */
export async function startServices(context: LaunchContext, running: Running): Promise<ServiceUrls> {
  const level = context.logLevel;
  const env = (own: Record<string, string>): NodeJS.ProcessEnv => ({
    ...process.env,
    SERVICE_TOKEN: context.secrets.serviceToken,
    LOG_LEVEL: level,
    ...own,
  });
  const listen = async (app: FastifyInstance) => {
    running.apps.push(app);
    return app.listen({ host: '127.0.0.1', port: 0 });
  };
  const pool = (url: string, name: string) => {
    const created = createPool(url, { applicationName: `taidon-${name}` });
    running.pools.push(created);
    return created;
  };

  // First, so every other service's events have somewhere to go from their first request.
  const auditConfig = loadAuditLogConfig(env({ AUDIT_LOG_DATABASE_URL: database(context, 'audit-log') }));
  const auditPool = pool(auditConfig.AUDIT_LOG_DATABASE_URL, 'audit-log');
  await migrateAuditLog(auditPool);
  const auditDb = context.databases['audit-log'];
  if (context.superuserUrl && auditDb) await sealAuditLog(context.superuserUrl, auditDb);
  const auditLogUrl = await listen(
    buildAuditLog({ config: auditConfig, pool: auditPool, logger: createLogger({ service: 'audit-log', level }) }),
  );

  const profileConfig = loadUserProfileConfig(env({ USER_PROFILE_DATABASE_URL: database(context, 'user-profile') }));
  const profilePool = pool(profileConfig.USER_PROFILE_DATABASE_URL, 'user-profile');
  await migrateUserProfile(profilePool);
  const userProfileUrl = await listen(
    buildUserProfile({
      config: profileConfig,
      pool: profilePool,
      logger: createLogger({ service: 'user-profile', level }),
    }),
  );

  const idpConfig = loadIdpConfig(
    env({ IDP_DATABASE_URL: database(context, 'idp'), USER_PROFILE_URL: userProfileUrl }),
  );
  const idpPool = pool(idpConfig.IDP_DATABASE_URL, 'idp');
  await migrateIdp(idpPool);
  const idpUrl = await listen(
    buildIdp({ config: idpConfig, pool: idpPool, logger: createLogger({ service: 'idp', level }) }),
  );

  const cacheConfig = loadSnapshotCacheConfig(
    env({
      SNAPSHOT_CACHE_DATABASE_URL: database(context, 'snapshot-cache'),
      SNAPSHOT_CACHE_ROOT: process.env.SNAPSHOT_CACHE_ROOT ?? join(context.dataDir, 'layers'),
    }),
  );
  const cacheLogger = createLogger({ service: 'snapshot-cache', level });
  const cachePool = pool(cacheConfig.SNAPSHOT_CACHE_DATABASE_URL, 'snapshot-cache');
  await migrateSnapshotCache(cachePool);
  const driver = await createDriver(cacheConfig);
  // An image an earlier run mounted and never unmounted (it was killed) is this run's to unmount when it stops.
  const root = cacheConfig.SNAPSHOT_CACHE_ROOT;
  const image = cacheConfig.SNAPSHOT_CACHE_BTRFS_IMAGE ?? `${root.replace(/\/+$/, '')}.img`;
  const leftMounted = driver.name === 'btrfs' && (await imageMountedAt(root, image));
  await driver.prepare();
  running.closeDriver = async () => {
    await driver.close();
    if (leftMounted) await unmountLayerStore(root);
  };
  cacheLogger.info({ driver: driver.name, reconcile: await reconcile(cachePool, driver) }, 'layers reconciled');
  const cacheUrl = await listen(
    buildSnapshotCache({ config: cacheConfig, pool: cachePool, driver, logger: cacheLogger }),
  );

  const envConfig = loadEnvManagerConfig(
    env({
      ENV_MANAGER_DATABASE_URL: database(context, 'env-manager'),
      SNAPSHOT_CACHE_URL: cacheUrl,
      SANDBOX_ADMIN_PASSWORD: context.secrets.sandboxAdminPassword,
      INSTANCE_RUN_DIR: process.env.INSTANCE_RUN_DIR ?? join(context.dataDir, 'run'),
    }),
  );
  const envLogger = createLogger({ service: 'env-manager', level });
  const envPool = pool(envConfig.ENV_MANAGER_DATABASE_URL, 'env-manager');
  await migrateEnvManager(envPool);
  const runtime = await createLocalRuntime({
    runDir: envConfig.INSTANCE_RUN_DIR,
    limits: {
      memoryMaxBytes: envConfig.INSTANCE_MEMORY_MAX_BYTES,
      pidsMax: envConfig.INSTANCE_PIDS_MAX,
      cpuMax: envConfig.INSTANCE_CPU_MAX,
    },
    ...cgroupOptions(envConfig.INSTANCE_CGROUPS),
    logger: envLogger,
  });
  const snapshotCache = createSnapshotCacheClient({ baseUrl: cacheUrl, serviceToken: context.secrets.serviceToken });
  const envUrl = await listen(
    buildEnvManager({
      config: envConfig,
      pool: envPool,
      logger: envLogger,
      snapshotCache,
      runtime,
      stopInstancesOnClose: true,
      audit: await createAuditSink({
        url: auditLogUrl,
        serviceToken: context.secrets.serviceToken,
        outboxFile: join(context.dataDir, 'outbox', 'env-manager.jsonl'),
        logger: envLogger,
      }),
    }),
  );

  const runnerConfig = loadSqlRunnerConfig(
    env({
      SQL_RUNNER_DATABASE_URL: database(context, 'sql-runner'),
      ENV_MANAGER_URL: envUrl,
      SNAPSHOT_CACHE_URL: cacheUrl,
      USER_PROFILE_URL: userProfileUrl,
    }),
  );
  const runnerPool = pool(runnerConfig.SQL_RUNNER_DATABASE_URL, 'sql-runner');
  await migrateSqlRunner(runnerPool);
  const envManager = new EnvManagerClient({
    name: 'env-manager',
    baseUrl: envUrl,
    serviceToken: context.secrets.serviceToken,
    timeoutMs: 10_000,
  });
  const runnerLogger = createLogger({ service: 'sql-runner', level });
  const sqlRunnerUrl = await listen(
    buildSqlRunner({
      config: runnerConfig,
      engine: engineIdentity(await envManager.engine()),
      logger: runnerLogger,
      runs: createRunnerDeps(runnerConfig, runnerPool, runnerLogger),
      warmPoolEmpty: runnerConfig.RUN_WARM_POOL_EMPTY,
    }),
  );
  return { auditLogUrl, userProfileUrl, idpUrl, snapshotCacheUrl: cacheUrl, envManagerUrl: envUrl, sqlRunnerUrl };
}

/** The gateway's configuration in front of services started by startServices. */
export function gatewayConfigFor(urls: ServiceUrls, secrets: LocalSecrets) {
  return {
    IDP_URL: urls.idpUrl,
    SQL_RUNNER_URL: urls.sqlRunnerUrl,
    AUDIT_LOG_URL: urls.auditLogUrl,
    // Rate limits, body limit and CORS come from the environment, as for a standalone gateway.
    ...loadConfig(hardeningConfigSpec),
    USER_PROFILE_URL: urls.userProfileUrl,
    ENV_MANAGER_URL: urls.envManagerUrl,
    SERVICE_TOKEN: secrets.serviceToken,
    ACCESS_TOKEN_ISSUER: 'taidon-idp',
    ACCESS_TOKEN_AUDIENCE: 'taidon',
    UPSTREAM_TIMEOUT_MS: 60_000,
  };
}

/** The gateway's audit sink: its outbox lives in the data directory, so events survive an audit-log outage and a restart. */
export function gatewayAuditSink(urls: ServiceUrls, context: LaunchContext, logger: Logger): Promise<AuditSink> {
  return createAuditSink({
    url: urls.auditLogUrl,
    serviceToken: context.secrets.serviceToken,
    outboxFile: join(context.dataDir, 'outbox', 'gateway.jsonl'),
    logger,
  });
}
