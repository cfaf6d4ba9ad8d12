import { KubeConfig } from '@kubernetes/client-node';
import { type AuditSink, createAuditSink, createPool } from '@taidon/kit';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { buildApp, templateSettings } from './app.js';
import { createSnapshotCacheClient } from './clients/snapshot-cache.js';
import { type EnvManagerConfig, parseAgentMap } from './config.js';
import { ClusterInstanceManager } from './domain/cluster-instances.js';
import { createEnvManagerMetrics } from './metrics.js';
import { migrateEnvManager } from './migrate.js';
import {
  type AgentDirectory,
  createAgentClient,
  createAgentCloneStore,
  podAgents,
  staticAgents,
} from './runtimes/kubernetes/agents.js';
import { scramVerifier } from './runtimes/kubernetes/init-clone.js';
import { createInstanceReconciler, type InstanceReconciler } from './runtimes/kubernetes/reconciler.js';
import { createKubernetesRuntime } from './runtimes/kubernetes.js';
import { cgroupOptions, createLocalRuntime } from './runtimes/local.js';

/** env-manager built and ready to listen; close() stops the app (its loops, its audit sink), then ends its pool. */
export interface StartedEnvManager {
  app: FastifyInstance;
  close(): Promise<void>;
}

export interface StartEnvManagerOptions {
  logger: Logger;
  /**
   * Suspend Running instances and delete pooled ones on close. Off by default: the servers stop with the
   * process anyway (ADR 0024) and the next start takes their instances over.
   */
  stopInstancesOnClose?: boolean;
}

/**
 * The kubernetes runtime's parts (ENV_MANAGER_RUNTIME=kubernetes): the API client (KUBECONFIG, else in-cluster),
 * the node agents (SNAPSHOT_CACHE_AGENTS, else their Pods), the instances on them, and the reconciler, which
 * reconciles only while this replica holds the Lease.
 */
function buildCluster(config: EnvManagerConfig, logger: Logger, metrics: ReturnType<typeof createEnvManagerMetrics>) {
  const kubeConfig = new KubeConfig();
  if (config.KUBECONFIG) kubeConfig.loadFromFile(config.KUBECONFIG);
  else kubeConfig.loadFromCluster();
  const agentClient = createAgentClient({ serviceToken: config.SERVICE_TOKEN });
  const directory: AgentDirectory =
    config.SNAPSHOT_CACHE_AGENTS !== '-'
      ? staticAgents(parseAgentMap(config.SNAPSHOT_CACHE_AGENTS))
      : podAgents({
          kubeConfig,
          namespace: config.POD_NAMESPACE ?? '',
          selector: config.SNAPSHOT_CACHE_AGENT_SELECTOR,
          port: config.SNAPSHOT_CACHE_AGENT_PORT,
          logger,
        });
  const namespace = config.SANDBOX_NAMESPACE;
  const reconciler = createInstanceReconciler({
    kubeConfig,
    namespace,
    clones: createAgentCloneStore({ directory, client: agentClient, logger }),
    logger,
    pod: {
      image: config.SANDBOX_IMAGE,
      runAsUser: config.SANDBOX_RUN_AS_USER,
      defaultResources: {
        requests: { cpu: config.SANDBOX_CPU_REQUEST, memory: config.SANDBOX_MEMORY_REQUEST },
        limits: { cpu: config.SANDBOX_CPU_LIMIT, memory: config.SANDBOX_MEMORY_LIMIT },
      },
      volumeSize: config.SANDBOX_VOLUME_SIZE,
      storageClassName: config.SANDBOX_STORAGE_CLASS,
      // An empty clone is made the template in its Pod (ADR 0049); the spec carries the verifier, not the password.
      init: { template: templateSettings(config), adminVerifier: scramVerifier(config.SANDBOX_ADMIN_PASSWORD) },
    },
    ...(config.POD_NAME ? { identity: config.POD_NAME } : {}),
    leaseDurationMs: config.SANDBOX_LEASE_DURATION_MS,
    retryPeriodMs: Math.max(200, Math.floor(config.SANDBOX_LEASE_DURATION_MS / 7)),
    resyncMs: config.SANDBOX_RESYNC_INTERVAL_MS,
    orphanGraceMs: config.SANDBOX_ORPHAN_CLONE_GRACE_SECONDS * 1000,
    onOrphanFreed: () => metrics.orphanClonesFreed.inc(),
  });
  const cluster = new ClusterInstanceManager({
    runtime: createKubernetesRuntime({ kubeConfig, namespace }),
    kubeConfig,
    agents: directory,
    agentClient,
    metrics,
    logger,
    adminPassword: config.SANDBOX_ADMIN_PASSWORD,
    startTimeoutMs: config.INSTANCE_START_TIMEOUT_MS,
    templateWaitMs: config.SANDBOX_TEMPLATE_WAIT_MS,
    idleTtlSeconds: config.INSTANCE_IDLE_TTL_SECONDS,
    throwawayTtlSeconds: config.INSTANCE_THROWAWAY_TTL_SECONDS,
  });
  return { cluster, reconciler };
}

/**
 * Builds the whole of env-manager from its validated config: pool,
 * migrations, the runtime (ENV_MANAGER_RUNTIME: the local one's spawner, or
 * the kubernetes one with its reconciler and node agents), the snapshot-cache
 * client, the audit sink (AUDIT_LOG_URL), app. The one way it is started: by its
 * server.ts, by the local launcher and by tests, so a standalone env-manager
 * records the same audit events as the all-in-one.
 */
export async function startEnvManager(
  config: EnvManagerConfig,
  options: StartEnvManagerOptions,
): Promise<StartedEnvManager> {
  const { logger } = options;
  const pool = createPool(config.ENV_MANAGER_DATABASE_URL, { applicationName: 'taidon-env-manager' });
  let audit: AuditSink | undefined;
  let app: FastifyInstance;
  let reconciler: InstanceReconciler | undefined;
  try {
    await migrateEnvManager(pool);
    // On a cluster the TaidonInstances are the record: the gauge counts them (the manager is made just below).
    let cluster: ClusterInstanceManager | undefined;
    const metrics = createEnvManagerMetrics(
      pool,
      config.ENV_MANAGER_RUNTIME === 'kubernetes' ? { countByState: async () => cluster?.countByState() ?? {} } : {},
    );
    const kubernetes = config.ENV_MANAGER_RUNTIME === 'kubernetes' ? buildCluster(config, logger, metrics) : undefined;
    cluster = kubernetes?.cluster;
    reconciler = kubernetes?.reconciler;
    const runtime = kubernetes
      ? undefined
      : await createLocalRuntime({
          runDir: config.INSTANCE_RUN_DIR,
          limits: {
            memoryMaxBytes: config.INSTANCE_MEMORY_MAX_BYTES,
            pidsMax: config.INSTANCE_PIDS_MAX,
            cpuMax: config.INSTANCE_CPU_MAX,
          },
          ...cgroupOptions(config.INSTANCE_CGROUPS),
          logger,
        });
    const snapshotCache = createSnapshotCacheClient({
      baseUrl: config.SNAPSHOT_CACHE_URL,
      serviceToken: config.SERVICE_TOKEN,
    });
    audit = config.AUDIT_LOG_URL
      ? await createAuditSink({
          url: config.AUDIT_LOG_URL,
          serviceToken: config.SERVICE_TOKEN,
          outboxFile: config.AUDIT_OUTBOX_FILE,
          logger,
        })
      : undefined;
    app = buildApp({
      config,
      pool,
      logger,
      snapshotCache,
      metrics,
      ...(runtime ? { runtime } : {}),
      ...(kubernetes ? { cluster: kubernetes.cluster, leads: () => kubernetes.reconciler.isLeader() } : {}),
      ...(options.stopInstancesOnClose ? { stopInstancesOnClose: true } : {}),
      ...(audit ? { audit } : {}),
    });
  } catch (error) {
    await pool.end().catch(() => {});
    throw error;
  }
  const built = app;
  // The reconciler runs with the service: it reconciles while this replica holds the Lease, and gives it up on close.
  const reconciling = reconciler;
  reconciling?.start();
  return {
    app: built,
    close: async () => {
      await built.close();
      await reconciling?.stop();
      await pool.end();
    },
  };
}
