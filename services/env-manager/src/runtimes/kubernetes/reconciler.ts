import { randomUUID } from 'node:crypto';
import {
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  type Informer,
  type KubeConfig,
  type KubernetesObject,
  makeInformer,
  type V1PersistentVolumeClaim,
  type V1Pod,
} from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { CloneStore } from './clones.js';
import { createLeaderElector } from './lease.js';
import { DEFAULT_POD_SETTINGS, type SandboxPodSettings } from './objects.js';
import { type ReconcileContext, reconcileInstance } from './reconcile.js';
import {
  coordinates,
  INSTANCE_LABEL,
  INSTANCE_UID_LABEL,
  instancesPath,
  MANAGED_BY,
  MANAGED_BY_LABEL,
  NAMESPACE_LABEL,
  TAIDON_GROUP,
  TAIDON_KIND,
  TAIDON_VERSION,
  type TaidonInstance,
} from './types.js';

export interface ReconcilerOptions {
  kubeConfig: KubeConfig;
  /** The sandbox namespace: the only one whose instances and Pods this reconciler touches. */
  namespace: string;
  clones: CloneStore;
  logger: Logger;
  pod?: Partial<SandboxPodSettings>;
  /** Every this often, every instance is looked at again and orphans are swept, events or not. */
  resyncMs?: number;
  /**
   * A clone no instance names is freed only once it is at least this old (default 10 minutes): one being made
   * right now, by this or a replica that has just lost the Lease, is never taken.
   */
  orphanGraceMs?: number;
  /** Called for each orphan clone freed (env-manager counts them). */
  onOrphanFreed?: (uid: string) => void;
  /** This replica's name in the Lease. */
  identity?: string;
  /** The Lease's name; every replica reconciling the namespace uses the same. */
  leaseName?: string;
  leaseDurationMs?: number;
  retryPeriodMs?: number;
  /** A leader not renewed for this long stops reconciling (default two thirds of the lease duration). */
  renewDeadlineMs?: number;
  /** The Lease's API (tests wrap it to make a renewal hang); default the kubeConfig's. */
  coordination?: CoordinationV1Api;
}

/** One env-manager replica's reconciler: it reconciles only while it holds the Lease. */
export interface InstanceReconciler {
  readonly identity: string;
  isLeader(): boolean;
  start(): void;
  /**
   * Stops reconciling and gives the Lease up (another replica takes over at once); `release: false` stops as a
   * crashed replica would, the Lease then expiring.
   */
  stop(options?: { release?: boolean }): Promise<void>;
}

/**
 * The reconciler: informers on the namespace's instances and on the Pods and
 * PVCs it made wake a work queue keyed by instance name; one worker takes the
 * names one at a time (so two rounds never race on one instance), retries
 * failures with backoff, and a periodic resync looks at everything again and
 * frees clones whose instance is gone. Leader election gates the whole: a
 * follower watches nothing.
 */
export function createInstanceReconciler(options: ReconcilerOptions): InstanceReconciler {
  const { kubeConfig, namespace, logger } = options;
  const identity = options.identity ?? `env-manager-${randomUUID().slice(0, 8)}`;
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const custom = kubeConfig.makeApiClient(CustomObjectsApi);
  const ctx: ReconcileContext = {
    core,
    custom,
    namespace,
    clones: options.clones,
    pod: { ...DEFAULT_POD_SETTINGS, ...options.pod },
    logger,
    event: (instance, type, reason, message) =>
      void recordEvent(core, namespace, identity, instance, type, reason, message, logger),
  };
  const resyncMs = options.resyncMs ?? 30_000;
  const orphanGraceMs = options.orphanGraceMs ?? 600_000;
  const due = new Map<string, number>();
  const failures = new Map<string, number>();
  let running = false;
  let wake: (() => void) | undefined;
  let loop: Promise<void> | undefined;
  let resyncTimer: NodeJS.Timeout | undefined;
  let informers: Informer<KubernetesObject>[] = [];

  function enqueue(name: string | undefined, delayMs = 0): void {
    if (!name) return;
    const at = Date.now() + delayMs;
    const current = due.get(name);
    if (current === undefined || at < current) due.set(name, at);
    wake?.();
  }

  async function work(): Promise<void> {
    while (running) {
      const now = Date.now();
      let next: [string, number] | undefined;
      for (const entry of due) if (!next || entry[1] < next[1]) next = entry;
      if (!next || next[1] > now) {
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, next ? next[1] - now : 1000);
        });
        wake = undefined;
        continue;
      }
      const [name] = next;
      due.delete(name);
      try {
        const result = await reconcileInstance(ctx, name);
        failures.delete(name);
        if (result.requeueAfterMs !== undefined) enqueue(name, result.requeueAfterMs);
      } catch (error) {
        const count = (failures.get(name) ?? 0) + 1;
        failures.set(name, count);
        // A 409 is a write that lost to a newer version: the next round reads it again.
        logger.warn({ err: error, instance: name, failures: count }, 'reconcile round failed; retrying');
        enqueue(name, Math.min(30_000, 250 * 2 ** Math.min(count, 7)));
      }
    }
  }

  async function resync(): Promise<void> {
    try {
      // Clones are listed before the instances, and only those past the grace period: a clone made after this
      // list, or being made now, is never taken for an orphan.
      const cloneUids = await ctx.clones.list({ olderThanMs: orphanGraceMs });
      const list = (await custom.listNamespacedCustomObject(coordinates(namespace))) as { items: TaidonInstance[] };
      const uids = new Set(list.items.map((i) => i.metadata.uid));
      for (const item of list.items) enqueue(item.metadata.name);
      const ours = `${MANAGED_BY_LABEL}=${MANAGED_BY}`;
      const pods = await core.listNamespacedPod({ namespace, labelSelector: ours });
      const volumes = await core.listPersistentVolume({ labelSelector: `${ours},${NAMESPACE_LABEL}=${namespace}` });
      // A clone a Pod or a PV still names is left to that name's round, which removes them first (no server on
      // the clone when it goes).
      for (const o of [...pods.items, ...volumes.items]) uids.add(o.metadata?.labels?.[INSTANCE_UID_LABEL]);
      for (const uid of cloneUids) {
        if (uids.has(uid)) continue;
        try {
          await ctx.clones.free(uid);
          options.onOrphanFreed?.(uid);
          logger.info({ uid, graceMs: orphanGraceMs }, 'freed a clone with no instance');
        } catch (error) {
          logger.warn({ err: error, uid }, 'could not free a clone with no instance; next resync tries again');
        }
      }
      // What was made for a name with no resource any more is removed by that name's round.
      for (const o of [...pods.items, ...volumes.items]) enqueue(o.metadata?.labels?.[INSTANCE_LABEL]);
    } catch (error) {
      logger.warn({ err: error }, 'resync failed');
    }
  }

  function watch<T extends KubernetesObject>(informer: Informer<T>, nameOf: (o: T) => string | undefined): void {
    const onChange = (o: T) => enqueue(nameOf(o));
    informer.on('add', onChange);
    informer.on('update', onChange);
    informer.on('delete', onChange);
    informer.on('error', (error: unknown) => {
      if (!running) return;
      logger.warn({ err: error }, 'watch failed; starting it again');
      setTimeout(() => running && void informer.start().catch(() => undefined), 1000);
    });
    informers.push(informer as unknown as Informer<KubernetesObject>);
  }

  async function startReconciling(): Promise<void> {
    running = true;
    const selector = `${MANAGED_BY_LABEL}=${MANAGED_BY}`;
    watch(
      makeInformer<TaidonInstance & KubernetesObject>(kubeConfig, instancesPath(namespace), async () =>
        custom.listNamespacedCustomObject(coordinates(namespace)),
      ),
      (i) => i.metadata?.name,
    );
    watch(
      makeInformer<V1Pod>(
        kubeConfig,
        `/api/v1/namespaces/${namespace}/pods`,
        () => core.listNamespacedPod({ namespace, labelSelector: selector }),
        selector,
      ),
      (p) => p.metadata?.labels?.[INSTANCE_LABEL],
    );
    watch(
      makeInformer<V1PersistentVolumeClaim>(
        kubeConfig,
        `/api/v1/namespaces/${namespace}/persistentvolumeclaims`,
        () => core.listNamespacedPersistentVolumeClaim({ namespace, labelSelector: selector }),
        selector,
      ),
      (c) => c.metadata?.labels?.[INSTANCE_LABEL],
    );
    loop = work();
    for (const informer of informers) {
      // A failed first list is reported to the error handler, which starts the informer again.
      void informer.start().catch(() => undefined);
    }
    await resync();
    const tick = () => {
      resyncTimer = setTimeout(async () => {
        await resync();
        if (running) tick();
      }, resyncMs);
    };
    tick();
  }

  async function stopReconciling(): Promise<void> {
    running = false;
    if (resyncTimer) clearTimeout(resyncTimer);
    for (const informer of informers) await informer.stop();
    informers = [];
    due.clear();
    wake?.();
    await loop;
  }

  let transition: Promise<void> = Promise.resolve();
  const elector = createLeaderElector({
    coordination: options.coordination ?? kubeConfig.makeApiClient(CoordinationV1Api),
    ...(options.renewDeadlineMs ? { renewDeadlineMs: options.renewDeadlineMs } : {}),
    namespace,
    leaseName: options.leaseName ?? 'taidon-env-manager-reconciler',
    identity,
    leaseDurationMs: options.leaseDurationMs ?? 15_000,
    retryPeriodMs: options.retryPeriodMs ?? 2_000,
    logger,
    // Each change of leadership waits for the one before; a failed one is logged and does not block the next.
    onStartedLeading: () => {
      transition = transition.then(startReconciling).catch((err: unknown) => logger.error({ err }, 'start failed'));
    },
    onStoppedLeading: () => {
      transition = transition.then(stopReconciling).catch((err: unknown) => logger.error({ err }, 'stop failed'));
    },
  });

  return {
    identity,
    isLeader: () => elector.isLeader(),
    start: () => elector.start(),
    async stop(stopOptions) {
      await elector.stop(stopOptions);
      await transition;
    },
  };
}

async function recordEvent(
  core: CoreV1Api,
  namespace: string,
  identity: string,
  instance: TaidonInstance,
  type: 'Normal' | 'Warning',
  reason: string,
  message: string,
  logger: Logger,
): Promise<void> {
  const now = new Date();
  try {
    await core.createNamespacedEvent({
      namespace,
      body: {
        metadata: { generateName: `${instance.metadata.name}.` },
        involvedObject: {
          apiVersion: `${TAIDON_GROUP}/${TAIDON_VERSION}`,
          kind: TAIDON_KIND,
          name: instance.metadata.name,
          namespace,
          uid: instance.metadata.uid,
          resourceVersion: instance.metadata.resourceVersion,
        },
        type,
        reason,
        message,
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
        source: { component: 'taidon-env-manager', host: identity },
        reportingComponent: 'taidon.dev/env-manager',
        reportingInstance: identity,
      },
    });
  } catch (error) {
    // Events are for operators; a refused one changes nothing the reconciler does.
    logger.debug({ err: error }, 'event not recorded');
  }
}
