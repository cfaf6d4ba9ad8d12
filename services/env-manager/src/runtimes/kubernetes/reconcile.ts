import type { CoreV1Api, CustomObjectsApi, V1Pod } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { CloneStore } from './clones.js';
import { claimName, cloneClaim, cloneVolume, type SandboxPodSettings, sandboxPod, volumeName } from './objects.js';
import { type Observation, sameStatus, statusOf } from './status.js';
import {
  apiMessage,
  apiStatus,
  CLONE_FINALIZER,
  coordinates,
  INSTANCE_LABEL,
  INSTANCE_UID_LABEL,
  LAST_USED_ANNOTATION,
  MANAGED_BY,
  MANAGED_BY_LABEL,
  NAMESPACE_LABEL,
  POSTGRES_PORT,
  type TaidonInstance,
} from './types.js';

// One round of making the cluster match one TaidonInstance: the whole
// decision for an instance in one place, from a fresh read of the resource
// and of what exists for it, so a round started by any event (or a restart)
// reaches the same result.

/** What a round needs; the reconciler builds it once. */
export interface ReconcileContext {
  core: CoreV1Api;
  custom: CustomObjectsApi;
  namespace: string;
  clones: CloneStore;
  pod: SandboxPodSettings;
  logger: Logger;
  /** Records a Kubernetes Event on the instance (best effort). */
  event(instance: TaidonInstance, type: 'Normal' | 'Warning', reason: string, message: string): void;
}

/** When to look at the instance again without an event (a wait in progress, a TTL to come). */
export interface ReconcileResult {
  requeueAfterMs?: number;
}

const POLL_MS = 500;

/** Whether the API server refused a create because the namespace's ResourceQuota is spent. */
export function isQuotaRefusal(error: unknown): boolean {
  // The API server marks a quota refusal only in its message: its reason (Forbidden) is the one RBAC and Pod
  // Security refusals carry too, and it has no cause list. The message's start is stable across versions.
  return apiStatus(error) === 403 && /exceeded quota/.test(apiMessage(error));
}

async function ignoreNotFound(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch (error) {
    if (apiStatus(error) !== 404) throw error;
  }
}

async function read(ctx: ReconcileContext, name: string): Promise<TaidonInstance | undefined> {
  try {
    return (await ctx.custom.getNamespacedCustomObject({ ...coordinates(ctx.namespace), name })) as TaidonInstance;
  } catch (error) {
    if (apiStatus(error) === 404) return undefined;
    throw error;
  }
}

async function podsOf(ctx: ReconcileContext, name: string): Promise<V1Pod[]> {
  const list = await ctx.core.listNamespacedPod({
    namespace: ctx.namespace,
    labelSelector: `${MANAGED_BY_LABEL}=${MANAGED_BY},${INSTANCE_LABEL}=${name}`,
  });
  return list.items;
}

async function deletePods(ctx: ReconcileContext, pods: V1Pod[]): Promise<void> {
  for (const pod of pods) {
    if (pod.metadata?.deletionTimestamp) continue;
    await ignoreNotFound(ctx.core.deleteNamespacedPod({ name: pod.metadata?.name ?? '', namespace: ctx.namespace }));
  }
}

/** Removes what exists for an instance name with no resource (or another incarnation's uid): Pods, PVC, PVs, clones. */
async function removeLeftovers(ctx: ReconcileContext, name: string, keepUid?: string): Promise<boolean> {
  const stale = (uid: string | undefined) => uid !== keepUid;
  const pods = (await podsOf(ctx, name)).filter((p) => stale(p.metadata?.labels?.[INSTANCE_UID_LABEL]));
  await deletePods(ctx, pods);
  for (const p of pods) ctx.logger.info({ instance: name, pod: p.metadata?.name }, 'removed a Pod with no instance');
  if (pods.length > 0) return false;
  const uids = new Set<string>();
  const volumes = await ctx.core.listPersistentVolume({
    labelSelector: `${MANAGED_BY_LABEL}=${MANAGED_BY},${NAMESPACE_LABEL}=${ctx.namespace},${INSTANCE_LABEL}=${name}`,
  });
  for (const pv of volumes.items) {
    const uid = pv.metadata?.labels?.[INSTANCE_UID_LABEL];
    if (!stale(uid)) continue;
    if (uid) uids.add(uid);
    const claim = pv.spec?.claimRef?.name;
    if (claim)
      await ignoreNotFound(ctx.core.deleteNamespacedPersistentVolumeClaim({ name: claim, namespace: ctx.namespace }));
    await ignoreNotFound(ctx.core.deletePersistentVolume({ name: pv.metadata?.name ?? '' }));
  }
  for (const uid of uids) await ctx.clones.free(uid);
  return true;
}

/** The instance's finalizer: Pods gone first (no server on the clone), then its volume objects, then the clone. */
async function finalize(ctx: ReconcileContext, instance: TaidonInstance): Promise<ReconcileResult> {
  const name = instance.metadata.name ?? '';
  if (!instance.metadata.finalizers?.includes(CLONE_FINALIZER)) return {};
  await writeStatus(ctx, instance, {
    state: 'Deleting',
    ready: { status: false, reason: 'Deleting', message: 'The instance is being deleted.' },
    progressing: { status: true, reason: 'Deleting', message: 'Stopping the server and freeing the clone.' },
  });
  const pods = await podsOf(ctx, name);
  if (pods.length > 0) {
    await deletePods(ctx, pods);
    return { requeueAfterMs: POLL_MS };
  }
  await ignoreNotFound(
    ctx.core.deleteNamespacedPersistentVolumeClaim({ name: claimName(instance), namespace: ctx.namespace }),
  );
  await ignoreNotFound(ctx.core.deletePersistentVolume({ name: volumeName(instance) }));
  await ctx.clones.free(instance.metadata.uid ?? '');
  const finalizers = (instance.metadata.finalizers ?? []).filter((f) => f !== CLONE_FINALIZER);
  await ctx.custom.replaceNamespacedCustomObject({
    ...coordinates(ctx.namespace),
    name,
    body: { ...instance, metadata: { ...instance.metadata, finalizers } },
  });
  ctx.logger.info({ instance: name }, 'clone freed, finalizer removed');
  return {};
}

async function writeStatus(ctx: ReconcileContext, instance: TaidonInstance, seen: Observation): Promise<void> {
  const status = statusOf(instance, seen);
  if (sameStatus(instance.status, status)) return;
  const before = instance.status?.state;
  const written = (await ctx.custom.replaceNamespacedCustomObjectStatus({
    ...coordinates(ctx.namespace),
    name: instance.metadata.name ?? '',
    body: { ...instance, status },
  })) as TaidonInstance;
  instance.metadata = written.metadata;
  instance.status = written.status;
  if (before !== status.state) {
    const type = seen.degraded ? 'Warning' : 'Normal';
    ctx.event(instance, type, seen.degraded?.reason ?? seen.ready.reason, seen.degraded?.message ?? seen.ready.message);
  }
}

async function readyNodes(ctx: ReconcileContext): Promise<string[]> {
  const nodes = await ctx.core.listNode();
  return nodes.items
    .filter((n) => !n.spec?.unschedulable)
    .filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'))
    .map((n) => n.metadata?.name ?? '')
    .filter(Boolean)
    .sort();
}

/** Makes the cluster match the instance `name` once. */
export async function reconcileInstance(ctx: ReconcileContext, name: string): Promise<ReconcileResult> {
  const instance = await read(ctx, name);
  if (!instance) return (await removeLeftovers(ctx, name)) ? {} : { requeueAfterMs: POLL_MS };
  if (instance.metadata.deletionTimestamp) return finalize(ctx, instance);
  const uid = instance.metadata.uid ?? '';
  if (!(await removeLeftovers(ctx, name, uid))) return { requeueAfterMs: POLL_MS };
  if (!instance.metadata.finalizers?.includes(CLONE_FINALIZER)) {
    const finalizers = [...(instance.metadata.finalizers ?? []), CLONE_FINALIZER];
    await ctx.custom.replaceNamespacedCustomObject({
      ...coordinates(ctx.namespace),
      name,
      body: { ...instance, metadata: { ...instance.metadata, finalizers } },
    });
    return { requeueAfterMs: 0 };
  }
  const ttl = instance.spec.ttlSeconds ?? 0;
  let ttlLeftMs: number | undefined;
  if (ttl > 0) {
    const since = instance.metadata.annotations?.[LAST_USED_ANNOTATION] ?? String(instance.metadata.creationTimestamp);
    ttlLeftMs = new Date(since).getTime() + ttl * 1000 - Date.now();
    if (ttlLeftMs <= 0) {
      ctx.event(instance, 'Normal', 'TTLExpired', `Unused for ${ttl} s: deleted.`);
      await ignoreNotFound(ctx.custom.deleteNamespacedCustomObject({ ...coordinates(ctx.namespace), name }));
      return {};
    }
  }
  const seen = await converge(ctx, instance);
  await writeStatus(ctx, instance, seen.observation);
  const waits = [seen.requeueAfterMs, ttlLeftMs].filter((ms): ms is number => ms !== undefined);
  return waits.length > 0 ? { requeueAfterMs: Math.min(...waits) } : {};
}

/** Placement, volume, and Pod: the observation to write and when to look again. */
async function converge(
  ctx: ReconcileContext,
  instance: TaidonInstance,
): Promise<{ observation: Observation; requeueAfterMs?: number }> {
  const name = instance.metadata.name ?? '';
  const uid = instance.metadata.uid ?? '';
  let { node, clonePath } = instance.status ?? {};
  if (!node || !clonePath) {
    node ??= await ctx.clones.place(instance.spec.layerKey, await readyNodes(ctx));
    ({ path: clonePath } = await ctx.clones.create({ uid, layerKey: instance.spec.layerKey, node }));
    // Recorded before anything else is made: a restarted reconciler finds the clone, not a second one.
    await writeStatus(ctx, instance, {
      state: 'Pending',
      node,
      clonePath,
      volume: volumeName(instance),
      ready: { status: false, reason: 'ClonePlaced', message: `Clone of ${instance.spec.layerKey} on ${node}.` },
      progressing: { status: true, reason: 'ClonePlaced', message: 'Making the volume and the Pod.' },
    });
  }
  const placed = { node, clonePath, volume: volumeName(instance) };
  await ensure(ctx.core.createPersistentVolume({ body: cloneVolume(instance, node, clonePath, ctx.pod) }));
  await ensure(
    ctx.core.createNamespacedPersistentVolumeClaim({ namespace: ctx.namespace, body: cloneClaim(instance, ctx.pod) }),
  );
  const pods = await podsOf(ctx, name);
  const live = pods.filter((p) => !p.metadata?.deletionTimestamp);
  if (instance.spec.suspended) {
    await deletePods(ctx, live);
    const stopping = pods.length > 0;
    return {
      observation: {
        ...placed,
        state: 'Suspended',
        ready: { status: false, reason: 'Suspended', message: 'Suspended: no Pod, the clone is kept.' },
        progressing: stopping
          ? { status: true, reason: 'Stopping', message: 'Stopping the Pod.' }
          : { status: false, reason: 'Suspended', message: 'Suspended.' },
      },
      requeueAfterMs: stopping ? POLL_MS : undefined,
    };
  }
  // Of several Pods (a create whose answer was lost, then another), the oldest stays.
  live.sort((a, b) => String(a.metadata?.creationTimestamp).localeCompare(String(b.metadata?.creationTimestamp)));
  await deletePods(ctx, live.slice(1));
  const pod = live[0];
  if (!pod) {
    try {
      await ctx.core.createNamespacedPod({ namespace: ctx.namespace, body: sandboxPod(instance, ctx.pod) });
    } catch (error) {
      if (!isQuotaRefusal(error)) throw error;
      return {
        observation: {
          ...placed,
          state: 'Pending',
          ready: { status: false, reason: 'QuotaExceeded', message: 'The sandbox namespace has no room for it.' },
          progressing: { status: false, reason: 'QuotaExceeded', message: 'Waiting for room in the quota.' },
          degraded: { reason: 'QuotaExceeded', message: apiMessage(error) },
        },
        requeueAfterMs: 10_000,
      };
    }
    return {
      observation: {
        ...placed,
        state: 'Creating',
        ready: { status: false, reason: 'PodCreated', message: 'The Pod is starting.' },
        progressing: { status: true, reason: 'PodCreated', message: `Pod created on ${node}.` },
      },
    };
  }
  const observation = { ...placed, ...observePod(pod) };
  if (observation.degraded?.reason === 'PodFailed') {
    await deletePods(ctx, [pod]);
    return { observation, requeueAfterMs: POLL_MS };
  }
  return { observation };
}

function observePod(pod: V1Pod): Omit<Observation, 'node' | 'clonePath' | 'volume'> {
  const phase = pod.status?.phase ?? 'Pending';
  const podName = pod.metadata?.name ?? '';
  if (phase === 'Failed' || phase === 'Succeeded') {
    return {
      state: 'Creating',
      ready: { status: false, reason: 'PodFailed', message: `Pod ${podName} ended (${phase}); another replaces it.` },
      progressing: { status: true, reason: 'Replacing', message: 'Replacing the Pod.' },
      degraded: { reason: 'PodFailed', message: pod.status?.message ?? `Pod ${podName} ended.` },
    };
  }
  const ready = pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
  if (phase === 'Running' && ready && pod.status?.podIP) {
    return {
      state: 'Running',
      endpoint: { host: pod.status.podIP, port: POSTGRES_PORT },
      ready: { status: true, reason: 'PodReady', message: `Pod ${podName} accepts connections.` },
      progressing: { status: false, reason: 'PodReady', message: 'Nothing to do.' },
    };
  }
  return {
    state: 'Creating',
    ready: { status: false, reason: 'PodNotReady', message: `Pod ${podName} is ${phase}.` },
    progressing: { status: true, reason: 'PodStarting', message: `Waiting for Pod ${podName}.` },
  };
}

async function ensure(create: Promise<unknown>): Promise<void> {
  try {
    await create;
  } catch (error) {
    if (apiStatus(error) !== 409) throw error;
  }
}
