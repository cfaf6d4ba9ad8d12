import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  ApiextensionsV1Api,
  CoreV1Api,
  KubeConfig,
  loadYaml,
  RbacAuthorizationV1Api,
  type V1ClusterRole,
  type V1ClusterRoleBinding,
  type V1CustomResourceDefinition,
  type V1Role,
  type V1RoleBinding,
} from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { type RenderedObject, renderChart } from '../../../../e2e/k8s/chart.js';
import { CONTROL_PLANE_TOOLS, type ControlPlaneInfo } from '../../../../e2e/k8s/control-plane.js';
import { eventually } from '../../../../e2e/k8s/eventually.js';
import type { CloneStore } from '../../src/runtimes/kubernetes/clones.js';
import { createInstanceReconciler, type InstanceReconciler } from '../../src/runtimes/kubernetes/reconciler.js';
import { createKubernetesRuntime, type KubernetesRuntime } from '../../src/runtimes/kubernetes.js';

const CRD_FILE = new URL('../../../../charts/taidon/crds/taidoninstances.yaml', import.meta.url);

/** Why the tests that clone on a loop-backed btrfs image cannot run here, or undefined when they can. */
export async function btrfsReason(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'mounting a loop-backed btrfs image needs root';
  const found = await promisify(execFile)('sh', ['-c', 'command -v mkfs.btrfs']).then(
    () => true,
    () => false,
  );
  return found ? undefined : 'mkfs.btrfs (btrfs-progs) is not installed';
}

/**
 * The tools these tests need: a control plane, and helm to render the chart's RBAC (scripts/k8s-tools.sh builds
 * them all).
 */
export const RUNTIME_TOOLS = [...CONTROL_PLANE_TOOLS, 'helm'] as const;

/** env-manager's service account as the chart names it for the tests' release (`helm template taidon …`). */
export const ENV_MANAGER_ACCOUNT = 'taidon-env-manager';

/** The RBAC objects of the chart's `templates/rbac.yaml`. */
const RBAC_KINDS = new Set(['Role', 'RoleBinding', 'ClusterRole', 'ClusterRoleBinding']);

/**
 * env-manager's RBAC exactly as the chart renders it (`helm template`, `templates/rbac.yaml`) for a release in
 * `releaseNamespace` serving the sandbox namespace `sandboxNamespace`: the Role in the sandbox namespace, the
 * ClusterRole of the clones' volumes and nodes, the Role reading the node agents' Pods in the release namespace,
 * and their bindings. The runtime's tests act only with what these grant, so a verb the runtime uses and the
 * chart lacks fails them (a 403 where the hand copy they used before would have allowed it).
 */
export async function chartRbac(
  releaseNamespace: string,
  sandboxNamespace: string,
): Promise<{ account: string; objects: RenderedObject[] }> {
  const { objects } = await renderChart([
    '--namespace',
    releaseNamespace,
    '--set',
    `sandbox.namespace=${sandboxNamespace}`,
    '--show-only',
    'templates/rbac.yaml',
  ]);
  const rbac = objects.filter((o) => RBAC_KINDS.has(o.kind));
  const subjects = rbac.flatMap((o) => (o.subjects ?? []) as { kind: string; name: string; namespace: string }[]);
  const names = new Set(subjects.map((s) => `${s.kind}/${s.namespace}/${s.name}`));
  // One account, the release's env-manager, is all the chart binds.
  if (names.size !== 1 || subjects[0]?.kind !== 'ServiceAccount' || subjects[0].namespace !== releaseNamespace)
    throw new Error(`the chart's RBAC binds ${[...names].join(', ') || 'nobody'}, not one account of the release`);
  if (subjects[0].name !== ENV_MANAGER_ACCOUNT)
    throw new Error(`the chart binds ${subjects[0].name}, the tests expect ${ENV_MANAGER_ACCOUNT}`);
  if (!rbac.some((o) => o.kind === 'ClusterRole') || !rbac.some((o) => o.kind === 'Role'))
    throw new Error("the chart's RBAC renders no Role or no ClusterRole for env-manager");
  return { account: subjects[0].name, objects: rbac };
}

/** Creates the rendered RBAC objects; answers a function deleting the cluster-scoped ones (namespaces take the rest). */
export async function applyRbac(admin: KubeConfig, objects: RenderedObject[]): Promise<() => Promise<void>> {
  const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
  for (const object of objects) {
    const body = object as V1Role & V1RoleBinding & V1ClusterRole & V1ClusterRoleBinding;
    const namespace = object.metadata.namespace ?? '';
    if (object.kind === 'Role') await rbac.createNamespacedRole({ namespace, body });
    else if (object.kind === 'RoleBinding') await rbac.createNamespacedRoleBinding({ namespace, body });
    else if (object.kind === 'ClusterRole') await rbac.createClusterRole({ body });
    else if (object.kind === 'ClusterRoleBinding') await rbac.createClusterRoleBinding({ body });
  }
  return async () => {
    for (const object of objects) {
      const name = object.metadata.name;
      if (object.kind === 'ClusterRoleBinding') await rbac.deleteClusterRoleBinding({ name }).catch(() => undefined);
      if (object.kind === 'ClusterRole') await rbac.deleteClusterRole({ name }).catch(() => undefined);
    }
  };
}

/** A KubeConfig acting as a service account (a token from the TokenRequest API, an hour). */
export async function accountConfig(
  plane: ControlPlaneInfo,
  admin: KubeConfig,
  account: string,
  namespace: string,
): Promise<KubeConfig> {
  const token = await admin.makeApiClient(CoreV1Api).createNamespacedServiceAccountToken({
    name: account,
    namespace,
    body: { spec: { audiences: [], expirationSeconds: 3600 } },
  });
  const config = new KubeConfig();
  config.loadFromOptions({
    clusters: [
      {
        name: 'taidon-test',
        server: plane.server,
        caFile: admin.getCurrentCluster()?.caFile ?? join(plane.dir, 'pki', 'ca.crt'),
      },
    ],
    users: [{ name: account, token: token.status?.token }],
    contexts: [{ name: account, cluster: 'taidon-test', user: account }],
    currentContext: account,
  });
  return config;
}

/** `eventually` with the runtime tests' pace: a minute at most, every 200 ms. */
const until = <T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> =>
  eventually(what, fn, timeoutMs, 200);

/** Installs the chart's CRD (once per control plane: a 409 means another file did) and waits until it serves. */
export async function installCrd(admin: KubeConfig): Promise<void> {
  const api = admin.makeApiClient(ApiextensionsV1Api);
  const crd = loadYaml<V1CustomResourceDefinition>(await readFile(CRD_FILE, 'utf8'));
  await api.createCustomResourceDefinition({ body: crd }).catch((error: { code?: number }) => {
    if (error.code !== 409) throw error;
  });
  await until('the CRD Established', async () => {
    const read = await api.readCustomResourceDefinition({ name: crd.metadata?.name ?? '' });
    return read.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True') ? true : undefined;
  });
}

/**
 * A sandbox namespace as the chart makes it (Pod Security `restricted` enforced), the CRD, and env-manager's
 * service account (`ENV_MANAGER_ACCOUNT`, in the same namespace, as for a release installed there) bound by the chart's own RBAC,
 * rendered for a release in that namespace; answers a KubeConfig acting as that account beside the admin one.
 */
export async function sandboxNamespace(
  plane: ControlPlaneInfo,
  namespace: string,
): Promise<{ admin: KubeConfig; account: KubeConfig; cleanup(): Promise<void> }> {
  const admin = new KubeConfig();
  admin.loadFromFile(plane.kubeconfig);
  const core = admin.makeApiClient(CoreV1Api);
  await installCrd(admin);
  const rendered = await chartRbac(namespace, namespace);
  await core.createNamespace({
    body: {
      metadata: {
        name: namespace,
        labels: {
          'pod-security.kubernetes.io/enforce': 'restricted',
          'pod-security.kubernetes.io/enforce-version': 'latest',
        },
      },
    },
  });
  await until('the default service account', () => core.readNamespacedServiceAccount({ name: 'default', namespace }));
  await core.createNamespacedServiceAccount({
    namespace,
    body: { metadata: { name: rendered.account }, automountServiceAccountToken: false },
  });
  const removeRbac = await applyRbac(admin, rendered.objects);
  const account = await accountConfig(plane, admin, rendered.account, namespace);
  return {
    admin,
    account,
    async cleanup() {
      // The namespace's deletion takes its objects; the PVs and the cluster role are cluster-wide.
      await core.deleteNamespace({ name: namespace }).catch(() => undefined);
      await removeRbac();
      const volumes = await core.listPersistentVolume({ labelSelector: `taidon.dev/namespace=${namespace}` });
      for (const pv of volumes.items)
        await core.deletePersistentVolume({ name: pv.metadata?.name ?? '' }).catch(() => undefined);
    },
  };
}

/**
 * env-manager's reconciler in a test's sandbox namespace, acting as `account` at the tests' pace (a 5 s Lease
 * tried for every 500 ms, every instance looked at again every 5 s), started and leading; with the runtime that
 * writes instances there as the same account. A reconciler that does not lead within a minute is stopped.
 */
export async function startLeadingReconciler(options: {
  account: KubeConfig;
  namespace: string;
  clones: CloneStore;
  logger: Logger;
}): Promise<{ reconciler: InstanceReconciler; runtime: KubernetesRuntime }> {
  const { account, namespace } = options;
  const reconciler = createInstanceReconciler({
    kubeConfig: account,
    namespace,
    clones: options.clones,
    logger: options.logger,
    resyncMs: 5_000,
    leaseDurationMs: 5_000,
    retryPeriodMs: 500,
  });
  reconciler.start();
  try {
    await until('the reconciler leading', async () => (reconciler.isLeader() ? true : undefined));
  } catch (error) {
    await reconciler.stop();
    throw error;
  }
  return { reconciler, runtime: createKubernetesRuntime({ kubeConfig: account, namespace }) };
}

export { until };
