import {
  AdmissionregistrationV1Api,
  ApiException,
  CoreV1Api,
  type KubeConfig,
  RbacAuthorizationV1Api,
  type V1PersistentVolume,
  type V1ValidatingAdmissionPolicy,
  type V1ValidatingAdmissionPolicyBinding,
} from '@kubernetes/client-node';
import { captureLogger } from '@taidon/kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderChart } from '../../../../e2e/k8s/chart.js';
import { type ControlPlaneInfo, skipReason } from '../../../../e2e/k8s/control-plane.js';
import { useControlPlane } from '../../../../e2e/k8s/use-control-plane.js';
import type { CloneStore } from '../../src/runtimes/kubernetes/clones.js';
import type { InstanceReconciler } from '../../src/runtimes/kubernetes/reconciler.js';
import type { KubernetesRuntime } from '../../src/runtimes/kubernetes.js';
import {
  accountConfig,
  chartRbac,
  RUNTIME_TOOLS,
  sandboxNamespace,
  startLeadingReconciler,
  until,
} from '../helpers/kubernetes.js';

// The chart's ValidatingAdmissionPolicy on the clones' PersistentVolumes
// (ADR 0054), enforced by a real kube-apiserver: the reconciler, as
// env-manager's account bound by the chart's RBAC, makes and deletes its
// volumes as before; the same account is refused a volume that is not a
// clone's (a hostPath, a path outside the agents' clone directory, another
// storage class, another namespace's), and another account given the same
// ClusterRole is refused the sandbox namespace's volumes. RBAC alone allows
// all of it.

const skip = skipReason(RUNTIME_TOOLS);
if (skip) console.warn(`kubernetes volume policy tests skipped: ${skip}`);
const namespace = `em-policy-${process.pid}`;
/** The chart's default `snapshotCache.hostPath`: a node agent's clones are under `<it>/volumes/<uuid>`. */
const HOST_PATH = '/var/lib/taidon/snapshot-cache';
const INTRUDER = 'intruder';

/** A node agent's clone paths, in memory (the API server never looks at the path, the policy does). */
function agentLikeClones(): CloneStore {
  const made = new Map<string, string>();
  return {
    async place(_layerKey, nodes) {
      const node = nodes[0];
      if (!node) throw new Error('no Ready node');
      return node;
    },
    async create({ uid }) {
      const path = `${HOST_PATH}/volumes/${uid}`;
      made.set(uid, path);
      return { path };
    },
    async free(uid) {
      made.delete(uid);
    },
    async list() {
      return [...made.keys()];
    },
  };
}

describe.skipIf(skip !== undefined)("the chart's admission policy on the clones' volumes", () => {
  let plane: ControlPlaneInfo;
  let release: () => Promise<void>;
  let admin: KubeConfig;
  let account: KubeConfig;
  let intruder: KubeConfig;
  let cleanup: () => Promise<void>;
  let reconciler: InstanceReconciler;
  let runtime: KubernetesRuntime;
  let core: CoreV1Api;
  let policyNames: string[] = [];
  const intruderBinding = `em-policy-intruder-${process.pid}`;
  const { logger } = captureLogger('env-manager');

  /** A volume as the reconciler makes one for `name`, changed by `change`. */
  const volume = (name: string, change: (pv: V1PersistentVolume) => void = () => {}): V1PersistentVolume => {
    const pv: V1PersistentVolume = {
      metadata: {
        name: `policy-${process.pid}-${name}`,
        labels: {
          'app.kubernetes.io/managed-by': 'taidon-env-manager',
          'taidon.dev/namespace': namespace,
          'taidon.dev/instance': name,
        },
      },
      spec: {
        capacity: { storage: '1Gi' },
        accessModes: ['ReadWriteOncePod'],
        persistentVolumeReclaimPolicy: 'Retain',
        storageClassName: 'taidon-clone',
        volumeMode: 'Filesystem',
        local: { path: `${HOST_PATH}/volumes/0b5c3a4e-1f2d-4c6b-9a8e-7d6c5b4a3f21` },
        claimRef: { namespace, name: `${name}-clone` },
        nodeAffinity: {
          required: {
            nodeSelectorTerms: [
              { matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['kwok-node-0'] }] },
            ],
          },
        },
      },
    };
    change(pv);
    return pv;
  };

  /** The API server's answer to `call`: 'admitted', or the refusal's code and message. */
  const answer = async (call: Promise<unknown>): Promise<'admitted' | { code: number; message: string }> => {
    try {
      await call;
      return 'admitted';
    } catch (error) {
      if (!(error instanceof ApiException)) throw error;
      const body = (typeof error.body === 'string' ? JSON.parse(error.body) : error.body) as { message?: string };
      return { code: error.code, message: body.message ?? '' };
    }
  };

  beforeAll(async () => {
    ({ plane, release } = await useControlPlane());
    ({ admin, account, cleanup } = await sandboxNamespace(plane, namespace));
    core = admin.makeApiClient(CoreV1Api);
    const admission = admin.makeApiClient(AdmissionregistrationV1Api);
    const rbac = admin.makeApiClient(RbacAuthorizationV1Api);

    // The policy and its binding exactly as the chart renders them for a release in this namespace.
    const { objects } = await renderChart([
      '--namespace',
      namespace,
      '--set',
      `sandbox.namespace=${namespace}`,
      '--show-only',
      'templates/volume-policy.yaml',
    ]);
    expect(objects.map((o) => o.kind)).toEqual(['ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding']);
    policyNames = objects.map((o) => o.metadata.name);
    for (const object of objects) {
      if (object.kind === 'ValidatingAdmissionPolicy')
        await admission.createValidatingAdmissionPolicy({ body: object as V1ValidatingAdmissionPolicy });
      else
        await admission.createValidatingAdmissionPolicyBinding({
          body: object as V1ValidatingAdmissionPolicyBinding,
        });
    }

    // Another account of the namespace with the very ClusterRole the chart gives env-manager.
    const { objects: rbacObjects } = await chartRbac(namespace, namespace);
    const clusterRole = rbacObjects.find((o) => o.kind === 'ClusterRole')?.metadata.name ?? '';
    await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name: INTRUDER } } });
    await rbac.createClusterRoleBinding({
      body: {
        metadata: { name: intruderBinding },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: clusterRole },
        subjects: [{ kind: 'ServiceAccount', name: INTRUDER, namespace }],
      },
    });
    intruder = await accountConfig(plane, admin, INTRUDER, namespace);

    // A policy is enforced once the API server's informer has it (and its type check ran): until then a create
    // passes, and is undone here.
    const asIntruder = intruder.makeApiClient(CoreV1Api);
    await until('the policy enforced', async () => {
      const probe = volume('probe');
      const result = await answer(asIntruder.createPersistentVolume({ body: probe }));
      if (result === 'admitted') {
        await core.deletePersistentVolume({ name: probe.metadata?.name ?? '' });
        return undefined;
      }
      return result.code === 403 ? result : undefined;
    });

    ({ reconciler, runtime } = await startLeadingReconciler({ account, namespace, clones: agentLikeClones(), logger }));
  }, 300_000);

  afterAll(async () => {
    await reconciler?.stop();
    const admission = admin?.makeApiClient(AdmissionregistrationV1Api);
    if (admission && policyNames.length > 0) {
      await admission.deleteValidatingAdmissionPolicyBinding({ name: policyNames[1] ?? '' }).catch(() => undefined);
      await admission.deleteValidatingAdmissionPolicy({ name: policyNames[0] ?? '' }).catch(() => undefined);
    }
    await admin
      ?.makeApiClient(RbacAuthorizationV1Api)
      .deleteClusterRoleBinding({ name: intruderBinding })
      .catch(() => undefined);
    // Best effort: the volumes this file made by hand (the instances' go with cleanup()).
    const left = await core?.listPersistentVolume().catch(() => undefined);
    for (const pv of left?.items ?? [])
      if (pv.metadata?.name?.startsWith(`policy-${process.pid}-`))
        await core.deletePersistentVolume({ name: pv.metadata.name }).catch(() => undefined);
    await cleanup?.();
    await release?.();
  }, 120_000);

  it('admits the volumes the reconciler makes and deletes, as env-manager', async () => {
    const view = await runtime.start({ instanceId: 'kept', layerKey: 'k0.policy' }, 60_000);
    expect(view.state).toBe('Running');
    const pvs = await core.listPersistentVolume({ labelSelector: `taidon.dev/namespace=${namespace}` });
    expect(pvs.items.map((pv) => pv.spec?.local?.path)).toEqual([
      expect.stringMatching(new RegExp(`^${HOST_PATH}/volumes/[0-9a-f-]{36}$`)),
    ]);
    expect(await runtime.delete('kept', { waitMs: 60_000 })).toBe(true);
    await until('its volume deleted', async () => {
      const after = await core.listPersistentVolume({ labelSelector: `taidon.dev/namespace=${namespace}` });
      return after.items.length === 0 ? true : undefined;
    });
  }, 120_000);

  it('refuses env-manager a volume that is not a clone of its namespace', async () => {
    const asAccount = account.makeApiClient(CoreV1Api);
    const refused: Record<string, (pv: V1PersistentVolume) => void> = {
      'a hostPath': (pv) => {
        if (!pv.spec) return;
        delete pv.spec.local;
        pv.spec.hostPath = { path: '/' };
      },
      "the node's root": (pv) => {
        if (pv.spec?.local) pv.spec.local.path = '/';
      },
      'a layer, not a clone': (pv) => {
        if (pv.spec?.local) pv.spec.local.path = `${HOST_PATH}/layers/${'a'.repeat(64)}`;
      },
      // (A path with `..` the API server's validation refuses before any policy.)
      'a directory inside a clone': (pv) => {
        if (pv.spec?.local) pv.spec.local.path = `${HOST_PATH}/volumes/0b5c3a4e-1f2d-4c6b-9a8e-7d6c5b4a3f21/base`;
      },
      'a volume id that is no uuid': (pv) => {
        if (pv.spec?.local) pv.spec.local.path = `${HOST_PATH}/volumes/x${'0'.repeat(35)}`;
      },
      'another storage class': (pv) => {
        if (pv.spec) pv.spec.storageClassName = 'fast-ssd';
      },
      'no managed-by label': (pv) => {
        delete pv.metadata?.labels?.['app.kubernetes.io/managed-by'];
      },
      "another namespace's claim": (pv) => {
        if (pv.spec?.claimRef) pv.spec.claimRef.namespace = 'default';
      },
      "another namespace's label and claim": (pv) => {
        if (pv.metadata?.labels) pv.metadata.labels['taidon.dev/namespace'] = 'kube-system';
        if (pv.spec?.claimRef) pv.spec.claimRef.namespace = 'kube-system';
      },
    };
    const answers: Record<string, unknown> = {};
    for (const [what, change] of Object.entries(refused)) {
      const result = await answer(asAccount.createPersistentVolume({ body: volume('bad', change) }));
      answers[what] = result === 'admitted' ? result : result.code;
      if (result !== 'admitted') expect(result.message, what).toContain('ValidatingAdmissionPolicy');
    }
    expect(answers).toEqual(Object.fromEntries(Object.keys(refused).map((what) => [what, 403])));

    // A volume of no Taidon namespace, made by an administrator: env-manager's RBAC may delete it, the policy not.
    const foreign = volume('foreign', (pv) => {
      if (pv.metadata) pv.metadata.labels = { app: 'a-database' };
      if (pv.spec?.claimRef) pv.spec.claimRef.namespace = 'default';
    });
    await core.createPersistentVolume({ body: foreign });
    const deleted = await answer(asAccount.deletePersistentVolume({ name: foreign.metadata?.name ?? '' }));
    expect(deleted).toMatchObject({
      code: 403,
      message: expect.stringContaining('env-manager creates and deletes only'),
    });
    await core.deletePersistentVolume({ name: foreign.metadata?.name ?? '' });
  }, 60_000);

  it("refuses another account with env-manager's ClusterRole the sandbox namespace's volumes", async () => {
    const asIntruder = intruder.makeApiClient(CoreV1Api);
    // A clone's volume, made as the reconciler makes it, that the intruder would point elsewhere or take away.
    const view = await runtime.start({ instanceId: 'target', layerKey: 'k0.policy' }, 60_000);
    expect(view.state).toBe('Running');
    const [target] = (await core.listPersistentVolume({ labelSelector: `taidon.dev/namespace=${namespace}` })).items;
    const created = await answer(
      asIntruder.createPersistentVolume({
        body: volume('hijack', (pv) => {
          if (pv.spec?.local) pv.spec.local.path = '/';
        }),
      }),
    );
    expect(created).toMatchObject({
      code: 403,
      message: expect.stringContaining(`only system:serviceaccount:${namespace}:taidon-env-manager creates or deletes`),
    });
    // Bound to the sandbox namespace's claim, though labelled as nobody's.
    const claimed = await answer(
      asIntruder.createPersistentVolume({
        body: volume('claimed', (pv) => {
          if (pv.metadata) pv.metadata.labels = {};
        }),
      }),
    );
    expect(claimed).toMatchObject({ code: 403 });
    const removed = await answer(asIntruder.deletePersistentVolume({ name: target?.metadata?.name ?? '' }));
    expect(removed).toMatchObject({ code: 403 });
    expect((await core.readPersistentVolume({ name: target?.metadata?.name ?? '' })).metadata?.deletionTimestamp).toBe(
      undefined,
    );
    // What is not the sandbox namespace's, its RBAC still allows: the refusals above are the policy's.
    const elsewhere = volume('elsewhere', (pv) => {
      if (pv.metadata) pv.metadata.labels = {};
      if (pv.spec?.claimRef) pv.spec.claimRef.namespace = 'default';
    });
    expect(await answer(asIntruder.createPersistentVolume({ body: elsewhere }))).toBe('admitted');
    expect(await answer(asIntruder.deletePersistentVolume({ name: elsewhere.metadata?.name ?? '' }))).toBe('admitted');
    expect(await runtime.delete('target', { waitMs: 60_000 })).toBe(true);
  }, 120_000);
});
