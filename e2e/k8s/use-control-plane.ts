import { inject } from 'vitest';
import { type ControlPlaneInfo, startControlPlane } from './control-plane.js';

/**
 * The run's shared control plane, for a test file's beforeAll: asked of the
 * broker in e2e/k8s/global-setup.ts (started by the first file that asks,
 * stopped when the run ends). Where that global setup is not configured, the
 * file starts one of its own: `release` then stops it (call it in afterAll).
 */
export async function useControlPlane(): Promise<{ plane: ControlPlaneInfo; release: () => Promise<void> }> {
  const broker = inject('taidonK8sBroker');
  if (!broker) {
    const own = await startControlPlane();
    return { plane: own, release: () => own.stop() };
  }
  const res = await fetch(broker, { method: 'POST' });
  if (!res.ok) throw new Error(`the Kubernetes control plane did not start: ${await res.text()}`);
  return { plane: (await res.json()) as ControlPlaneInfo, release: async () => {} };
}
