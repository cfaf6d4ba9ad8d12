import type { CoreV1Api, CustomObjectsApi, V1Pod } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { CloneStore } from './clones.js';
import type { SandboxPodSettings } from './objects.js';
import { type Observation, sameStatus, statusOf } from './status.js';
import {
  apiMessage,
  apiStatus,
  coordinates,
  INSTANCE_LABEL,
  MANAGED_BY,
  MANAGED_BY_LABEL,
  type TaidonInstance,
} from './types.js';

// The reads and writes a reconcile round is made of, shared by the round
// (reconcile.ts) and the teardown (teardown.ts).

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

/** How soon a round looks again while it waits for something to go (a Pod, a PVC). */
export const POLL_MS = 500;

/** Whether the API server refused a create because the namespace's ResourceQuota is spent. */
export function isQuotaRefusal(error: unknown): boolean {
  // The API server marks a quota refusal only in its message: its reason (Forbidden) is the one RBAC and Pod
  // Security refusals carry too, and it has no cause list. The message's start is stable across versions.
  return apiStatus(error) === 403 && /exceeded quota/.test(apiMessage(error));
}

/** Awaits a delete, for which a 404 is success: the object is already gone. */
export async function ignoreNotFound(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch (error) {
    if (apiStatus(error) !== 404) throw error;
  }
}

/** Awaits a create, for which a 409 is success: the object exists (made by an earlier round). */
export async function ensure(create: Promise<unknown>): Promise<void> {
  try {
    await create;
  } catch (error) {
    if (apiStatus(error) !== 409) throw error;
  }
}

/** Whether a read finds its object (false on 404). */
export async function exists(read: Promise<unknown>): Promise<boolean> {
  try {
    await read;
    return true;
  } catch (error) {
    if (apiStatus(error) === 404) return false;
    throw error;
  }
}

/** The instance as the API server has it now, or undefined when it is gone. */
export async function read(ctx: ReconcileContext, name: string): Promise<TaidonInstance | undefined> {
  try {
    return (await ctx.custom.getNamespacedCustomObject({ ...coordinates(ctx.namespace), name })) as TaidonInstance;
  } catch (error) {
    if (apiStatus(error) === 404) return undefined;
    throw error;
  }
}

/** Every Pod labelled for the instance name, terminating ones included. */
export async function podsOf(ctx: ReconcileContext, name: string): Promise<V1Pod[]> {
  const list = await ctx.core.listNamespacedPod({
    namespace: ctx.namespace,
    labelSelector: `${MANAGED_BY_LABEL}=${MANAGED_BY},${INSTANCE_LABEL}=${name}`,
  });
  return list.items;
}

/** Deletes the Pods not already terminating. */
export async function deletePods(ctx: ReconcileContext, pods: V1Pod[]): Promise<void> {
  for (const pod of pods) {
    if (pod.metadata?.deletionTimestamp) continue;
    await ignoreNotFound(ctx.core.deleteNamespacedPod({ name: pod.metadata?.name ?? '', namespace: ctx.namespace }));
  }
}

/**
 * Writes the status an observation gives when it differs from the one stored, updating `instance` in place, and
 * records an Event when the state changes.
 */
export async function writeStatus(ctx: ReconcileContext, instance: TaidonInstance, seen: Observation): Promise<void> {
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

/** Names of the nodes a clone may be placed on: Ready and schedulable. */
export async function readyNodes(ctx: ReconcileContext): Promise<string[]> {
  const nodes = await ctx.core.listNode();
  return nodes.items
    .filter((n) => !n.spec?.unschedulable)
    .filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'))
    .map((n) => n.metadata?.name ?? '')
    .filter(Boolean)
    .sort();
}
