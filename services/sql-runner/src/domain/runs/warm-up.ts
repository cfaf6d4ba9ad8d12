import type { RunnerDeps } from './context.js';

/** Owner recorded for instances the platform starts for itself. */
export const PLATFORM_OWNER = '00000000-0000-0000-0000-000000000000';

/**
 * Makes the empty database (the base key K0) ready before the first learner
 * asks: its layer built once from the template, and a warm pool of `size`
 * started instances of it declared with env-manager.
 */
export async function warmUpBaseState(deps: RunnerDeps, baseKey: string, size: number): Promise<void> {
  const found = await deps.snapshotCache.lookup([baseKey]);
  if (found.key === null) {
    const started = performance.now();
    const instance = await deps.envManager.create({ ownerId: PLATFORM_OWNER, layerKey: null });
    try {
      const buildMs = Math.round(performance.now() - started);
      await deps.envManager.snapshot(instance.id, { key: baseKey, parentKey: null, stepCount: 0, buildMs });
    } finally {
      await deps.envManager.delete(instance.id).catch(() => {});
    }
  }
  if (size > 0) await deps.envManager.warmPool(baseKey, size);
}
