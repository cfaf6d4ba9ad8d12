import type { V1Pod } from '@kubernetes/client-node';
import {
  deletePods,
  ensure,
  exists,
  ignoreNotFound,
  isQuotaRefusal,
  POLL_MS,
  podsOf,
  type ReconcileContext,
  type ReconcileResult,
  read,
  readyNodes,
  writeStatus,
} from './cluster.js';
import { cloneClaim, cloneVolume, sandboxPod, volumeName } from './objects.js';
import type { Observation } from './status.js';
import { finalize, removeLeftovers } from './teardown.js';
import {
  apiMessage,
  apiStatus,
  CLONE_FINALIZER,
  coordinates,
  LAST_USED_ANNOTATION,
  POSTGRES_PORT,
  type TaidonInstance,
} from './types.js';

// One round of making the cluster match one TaidonInstance: the whole
// decision for an instance in one place, from a fresh read of the resource
// and of what exists for it, so a round started by any event (or a restart)
// reaches the same result.

export type { ReconcileContext, ReconcileResult } from './cluster.js';
export { isQuotaRefusal } from './cluster.js';

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
  if (!node) {
    // The node env-manager chose (spec.node: where an agent holds the deepest layer), else one placed here. Either
    // way it is recorded BEFORE the clone is made: a round that lost its status write to a concurrent change (a
    // touch) finds the node and clones there, never a second clone elsewhere.
    node = instance.spec.node ?? (await ctx.clones.place(instance.spec.layerKey, await readyNodes(ctx)));
    await writeStatus(ctx, instance, {
      state: 'Pending',
      node,
      ready: { status: false, reason: 'NodeChosen', message: `The clone goes on ${node}.` },
      progressing: { status: true, reason: 'NodeChosen', message: `Cloning ${instance.spec.layerKey} on ${node}.` },
    });
  }
  if (!clonePath) {
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
  if (!(await exists(ctx.core.readPersistentVolume({ name: volumeName(instance) })))) {
    // The volume's affinity is by label (the scheduler matches volume affinity on labels only), and a node's
    // hostname label need not be its name.
    const host = (await ctx.core.readNode({ name: node })).metadata?.labels?.['kubernetes.io/hostname'] ?? node;
    await ensure(ctx.core.createPersistentVolume({ body: cloneVolume(instance, host, clonePath, ctx.pod) }));
  }
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
      if (!isQuotaRefusal(error)) {
        // Refused for good by admission or validation (Pod Security, a LimitRange, a request above its limit):
        // said on the instance, looked at again later (an operator may change the namespace), never hot-looped.
        const status = apiStatus(error);
        if (status !== 403 && status !== 422 && status !== 400) throw error;
        return {
          observation: {
            ...placed,
            state: 'Pending',
            ready: { status: false, reason: 'PodRefused', message: 'The API server refused its Pod.' },
            progressing: { status: false, reason: 'PodRefused', message: 'Its Pod cannot be made as it is.' },
            degraded: { reason: 'PodRefused', message: apiMessage(error) },
          },
          requeueAfterMs: 30_000,
        };
      }
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
