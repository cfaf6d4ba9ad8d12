import {
  deletePods,
  ignoreNotFound,
  POLL_MS,
  podsOf,
  type ReconcileContext,
  type ReconcileResult,
  writeStatus,
} from './cluster.js';
import { claimName, volumeName } from './objects.js';
import {
  CLONE_FINALIZER,
  coordinates,
  INSTANCE_LABEL,
  INSTANCE_UID_LABEL,
  MANAGED_BY,
  MANAGED_BY_LABEL,
  NAMESPACE_LABEL,
  type TaidonInstance,
} from './types.js';

// What goes when an instance goes: through its finalizer, or, for what was
// left with no resource (a crash between two writes), by name.

/** Removes what exists for an instance name with no resource (or another incarnation's uid): Pods, PVC, PVs, clones. */
export async function removeLeftovers(ctx: ReconcileContext, name: string, keepUid?: string): Promise<boolean> {
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
export async function finalize(ctx: ReconcileContext, instance: TaidonInstance): Promise<ReconcileResult> {
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
