import { CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { apiStatus, coordinates, type TaidonInstance } from './types.js';

// What the chart's pre-delete hook does before Helm removes env-manager: a
// TaidonInstance carries a finalizer only env-manager's reconciler removes
// (after its Pods are gone and its clone is freed on the node), so deleting
// the release first would strand every sandbox: resources that never go,
// clones that stay on the nodes. The hook deletes them all while env-manager
// still runs, and waits until their finalizers let them go.

/** What an uninstall left: how many instances it asked to delete, and the names still there at its deadline. */
export interface UninstallResult {
  deleted: number;
  remaining: string[];
}

/**
 * Deletes every TaidonInstance of `namespace` and waits, reading the list every `pollMs`, until none is left or
 * `timeoutMs` passed. Needs `list` and `delete` on the resource there, nothing else.
 */
export async function deleteAllInstances(options: {
  kubeConfig: KubeConfig;
  namespace: string;
  timeoutMs: number;
  pollMs?: number;
}): Promise<UninstallResult> {
  const custom = options.kubeConfig.makeApiClient(CustomObjectsApi);
  const where = coordinates(options.namespace);
  const names = async () =>
    ((await custom.listNamespacedCustomObject(where)) as { items: TaidonInstance[] }).items.map(
      (i) => i.metadata.name ?? '',
    );
  const first = await names();
  for (const name of first) {
    try {
      await custom.deleteNamespacedCustomObject({ ...where, name });
    } catch (error) {
      if (apiStatus(error) !== 404) throw error;
    }
  }
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const left = await names();
    if (left.length === 0 || Date.now() > deadline) return { deleted: first.length, remaining: left };
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 1_000));
  }
}
