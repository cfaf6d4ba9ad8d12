import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, CustomObjectsApi, KubeConfig, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { captureLogger } from '@taidon/kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { find, renderChart } from '../../../../e2e/k8s/chart.js';
import { type ControlPlaneInfo, skipReason } from '../../../../e2e/k8s/control-plane.js';
import { useControlPlane } from '../../../../e2e/k8s/use-control-plane.js';
import { createDirectoryCloneStore } from '../../src/runtimes/kubernetes/clones.js';
import type { InstanceReconciler } from '../../src/runtimes/kubernetes/reconciler.js';
import { coordinates } from '../../src/runtimes/kubernetes/types.js';
import { deleteAllInstances } from '../../src/runtimes/kubernetes/uninstall.js';
import { createKubernetesRuntime } from '../../src/runtimes/kubernetes.js';
import { RUNTIME_TOOLS, sandboxNamespace, startLeadingReconciler } from '../helpers/kubernetes.js';

// The chart's pre-delete hook against a real control plane: instances made
// Ready (kwok nodes) by env-manager's reconciler, then deleted by an account
// bound to the hook's Role alone (list and delete TaidonInstances in the
// sandbox namespace), waiting until the reconciler's finalizer freed every
// clone and the resources are gone. The Role is the one the chart renders.

const skip = skipReason(RUNTIME_TOOLS);
if (skip) console.warn(`kubernetes uninstall tests skipped: ${skip}`);
const namespace = `em-uninstall-${process.pid}`;

describe.skipIf(skip !== undefined)(
  "the chart's pre-delete hook: every sandbox instance deleted while env-manager runs",
  () => {
    let plane: ControlPlaneInfo;
    let release: () => Promise<void>;
    let admin: KubeConfig;
    let account: KubeConfig;
    let hook: KubeConfig;
    let cleanup: () => Promise<void>;
    let cloneRoot: string;
    let reconciler: InstanceReconciler;
    const { logger } = captureLogger('env-manager');

    beforeAll(async () => {
      ({ plane, release } = await useControlPlane());
      ({ admin, account, cleanup } = await sandboxNamespace(plane, namespace));
      cloneRoot = await mkdtemp(join(tmpdir(), 'em-uninstall-'));
      ({ reconciler } = await startLeadingReconciler({
        account,
        namespace,
        clones: createDirectoryCloneStore(cloneRoot),
        logger,
      }));
      const core = admin.makeApiClient(CoreV1Api);
      const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
      await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name: 'uninstall' } } });
      // The hook's Role exactly as the chart renders it.
      const { rules } = find((await renderChart()).objects, 'Role', 'taidon-uninstall');
      await rbac.createNamespacedRole({ namespace, body: { metadata: { name: 'uninstall' }, rules } });
      await rbac.createNamespacedRoleBinding({
        namespace,
        body: {
          metadata: { name: 'uninstall' },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'uninstall' },
          subjects: [{ kind: 'ServiceAccount', name: 'uninstall', namespace }],
        },
      });
      const token = await core.createNamespacedServiceAccountToken({
        name: 'uninstall',
        namespace,
        body: { spec: { audiences: [], expirationSeconds: 3600 } },
      });
      hook = new KubeConfig();
      hook.loadFromOptions({
        clusters: [{ name: 'test', server: plane.server, caFile: admin.getCurrentCluster()?.caFile ?? '' }],
        users: [{ name: 'uninstall', token: token.status?.token }],
        contexts: [{ name: 'test', cluster: 'test', user: 'uninstall' }],
        currentContext: 'test',
      });
    }, 300_000);

    afterAll(async () => {
      await reconciler?.stop();
      await cleanup?.();
      if (cloneRoot) await rm(cloneRoot, { recursive: true, force: true });
      await release?.();
    }, 120_000);

    it('deletes them all and returns once their finalizers freed the clones; may do nothing else', async () => {
      const runtime = createKubernetesRuntime({ kubeConfig: account, namespace });
      for (const name of ['one', 'two', 'three']) await runtime.start({ instanceId: name, layerKey: 'k0.x' }, 60_000);
      const clonesOnDisk = async () => {
        const nodes = await readdir(cloneRoot).catch(() => []);
        let count = 0;
        for (const node of nodes) count += (await readdir(join(cloneRoot, node))).length;
        return count;
      };
      expect(await clonesOnDisk()).toBe(3);

      const result = await deleteAllInstances({ kubeConfig: hook, namespace, timeoutMs: 60_000, pollMs: 200 });
      expect(result).toEqual({ deleted: 3, remaining: [] });
      expect(await runtime.list()).toEqual([]);
      expect(await clonesOnDisk()).toBe(0);
      const core = admin.makeApiClient(CoreV1Api);
      expect((await core.listNamespacedPod({ namespace })).items.filter((p) => !p.metadata?.deletionTimestamp)).toEqual(
        [],
      );
      // Nothing left: a second run (a retried hook) has nothing to do.
      expect(await deleteAllInstances({ kubeConfig: hook, namespace, timeoutMs: 1_000 })).toEqual({
        deleted: 0,
        remaining: [],
      });

      // Its account may list and delete instances there, and nothing else: not make one, not read Pods or Secrets.
      const asHook = hook.makeApiClient(CustomObjectsApi);
      await expect(
        asHook.createNamespacedCustomObject({
          ...coordinates(namespace),
          body: { apiVersion: 'taidon.dev/v1alpha1', kind: 'TaidonInstance', metadata: { name: 'x' }, spec: {} },
        }),
      ).rejects.toMatchObject({ code: 403 });
      const hookCore = hook.makeApiClient(CoreV1Api);
      await expect(hookCore.listNamespacedPod({ namespace })).rejects.toMatchObject({ code: 403 });
      await expect(hookCore.listNamespacedSecret({ namespace })).rejects.toMatchObject({ code: 403 });
      await expect(asHook.listNamespacedCustomObject({ ...coordinates('default') })).rejects.toMatchObject({
        code: 403,
      });
    }, 180_000);

    it('says which instances are left when nothing frees them by its deadline (env-manager gone)', async () => {
      await reconciler.stop();
      try {
        // A resource env-manager would have finalized: with no reconciler, its finalizer holds it.
        const custom = admin.makeApiClient(CustomObjectsApi);
        await custom.createNamespacedCustomObject({
          ...coordinates(namespace),
          body: {
            apiVersion: 'taidon.dev/v1alpha1',
            kind: 'TaidonInstance',
            metadata: { name: 'held', finalizers: ['taidon.dev/free-clone'] },
            spec: { layerKey: 'k0.held', suspended: false },
          },
        });
        const result = await deleteAllInstances({ kubeConfig: hook, namespace, timeoutMs: 1_500, pollMs: 200 });
        expect(result).toEqual({ deleted: 1, remaining: ['held'] });
        await custom
          .patchNamespacedCustomObject({
            ...coordinates(namespace),
            name: 'held',
            body: [{ op: 'remove', path: '/metadata/finalizers' }],
          })
          .catch(() => undefined);
      } finally {
        reconciler.start();
      }
    }, 60_000);
  },
);
