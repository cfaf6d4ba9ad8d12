import { loadAuditLogConfig, startAuditLog } from '@taidon/audit-log';
import { loadEnvManagerConfig, startEnvManager } from '@taidon/env-manager';
import { loadExercisesConfig, startExercises } from '@taidon/exercises';
import { loadGatewayConfig, startGateway } from '@taidon/gateway';
import { loadIdpConfig, startIdp } from '@taidon/idp';
import { createLogger } from '@taidon/kit';
import { loadSnapshotCacheConfig, startSnapshotCache } from '@taidon/snapshot-cache';
import { loadSqlRunnerConfig, startSqlRunner } from '@taidon/sql-runner';
import { loadUserProfileConfig, startUserProfile } from '@taidon/user-profile';
import { loadVcsSyncConfig, startVcsSync } from '@taidon/vcs-sync';
import type { FastifyInstance } from 'fastify';
import {
  gatewayEnv,
  type LaunchContext,
  layerImage,
  type PlatformService,
  type ServiceUrls,
  serviceEnv,
} from './env.js';
import { imageMountedAt, unmountLayerStore } from './layer-store.js';

export {
  gatewayEnv,
  type LaunchContext,
  layerImage,
  layerRoot,
  PLATFORM_SERVICES,
  type PlatformService,
  type ServiceUrls,
  STATEFUL_SERVICES,
  serviceEnv,
} from './env.js';

/** What the launcher must close when it stops, in the order started (closed in reverse). */
export interface Running {
  services: { name: string; close(): Promise<void> }[];
}

/**
 * Starts audit-log, user-profile, idp, snapshot-cache, env-manager,
 * vcs-sync, sql-runner and exercises in this process on loopback ports (tests and benches do; `npm
 * start` runs each as its own process, see processes.ts), each with its own
 * start function (the one its server.ts calls) and configured by its own
 * loader from the environment with serviceEnv's values. Returns their URLs.
 */
export async function startServices(context: LaunchContext, running: Running): Promise<ServiceUrls> {
  const urls: Partial<ServiceUrls> = {};
  const env = (service: PlatformService): NodeJS.ProcessEnv => ({
    ...process.env,
    ...serviceEnv(service, context, urls),
  });
  const logger = context.logger ?? ((service: string) => createLogger({ service, level: context.logLevel }));
  const listen = async (name: string, service: { app: FastifyInstance; close(): Promise<void> }) => {
    running.services.push({ name, close: () => service.close() });
    return service.app.listen({ host: '127.0.0.1', port: 0 });
  };

  // First, so every other service's events have somewhere to go from their first request.
  urls.auditLogUrl = await listen(
    'audit-log',
    await startAuditLog(loadAuditLogConfig(env('audit-log')), { logger: logger('audit-log') }),
  );
  urls.userProfileUrl = await listen(
    'user-profile',
    await startUserProfile(loadUserProfileConfig(env('user-profile')), { logger: logger('user-profile') }),
  );
  urls.idpUrl = await listen('idp', await startIdp(loadIdpConfig(env('idp')), { logger: logger('idp') }));

  const cacheConfig = loadSnapshotCacheConfig(env('snapshot-cache'));
  // An image an earlier run mounted and never unmounted (it was killed) is this run's to unmount when it stops,
  // after snapshot-cache has closed (services close in reverse order).
  const root = cacheConfig.SNAPSHOT_CACHE_ROOT;
  const image = layerImage(cacheConfig);
  if (await imageMountedAt(root, image)) {
    running.services.push({ name: 'layer store', close: () => unmountLayerStore(root) });
  }
  urls.snapshotCacheUrl = await listen(
    'snapshot-cache',
    await startSnapshotCache(cacheConfig, { logger: logger('snapshot-cache') }),
  );
  urls.envManagerUrl = await listen(
    'env-manager',
    await startEnvManager(loadEnvManagerConfig(env('env-manager')), {
      logger: logger('env-manager'),
      stopInstancesOnClose: true,
    }),
  );
  // vcs-sync before sql-runner here, where a URL is known only once its service listens: sql-runner reads
  // project tails from it (npm start chooses every port first, so its order stays that of PLATFORM_SERVICES).
  urls.vcsSyncUrl = await listen(
    'vcs-sync',
    await startVcsSync(loadVcsSyncConfig(env('vcs-sync')), { logger: logger('vcs-sync') }),
  );
  urls.sqlRunnerUrl = await listen(
    'sql-runner',
    await startSqlRunner(loadSqlRunnerConfig(env('sql-runner')), { logger: logger('sql-runner') }),
  );
  urls.exercisesUrl = await listen(
    'exercises',
    await startExercises(loadExercisesConfig(env('exercises')), { logger: logger('exercises') }),
  );
  return urls as ServiceUrls;
}

/** Starts the gateway with its own start function in front of the services; returns it for the caller to listen. */
export async function startLocalGateway(urls: ServiceUrls, context: LaunchContext, running: Running) {
  const config = loadGatewayConfig({ ...process.env, ...gatewayEnv(urls, context) });
  const logger = context.logger ?? ((service: string) => createLogger({ service, level: context.logLevel }));
  const gateway = await startGateway(config, { logger: logger('gateway') });
  running.services.push({ name: 'gateway', close: () => gateway.close() });
  return gateway.app;
}
