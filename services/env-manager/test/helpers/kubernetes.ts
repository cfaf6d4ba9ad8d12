import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  ApiextensionsV1Api,
  CoreV1Api,
  KubeConfig,
  loadYaml,
  RbacAuthorizationV1Api,
  type V1CustomResourceDefinition,
  type V1PolicyRule,
} from '@kubernetes/client-node';
import type { ControlPlaneInfo } from '../../../../e2e/k8s/control-plane.js';
import { eventually } from '../../../../e2e/k8s/eventually.js';

const CRD_FILE = new URL('../../../../charts/taidon/crds/taidoninstances.yaml', import.meta.url);

/** The service account env-manager runs as in the tests, and the Role/ClusterRole rules ADR 0034 lists. */
export const ENV_MANAGER_ACCOUNT = 'env-manager';

/** What env-manager may do in the sandbox namespace: its resources, their Pods and claims, its Lease, events. */
export const SANDBOX_NAMESPACE_RULES: V1PolicyRule[] = [
  {
    apiGroups: ['taidon.dev'],
    resources: ['taidoninstances'],
    verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'],
  },
  { apiGroups: ['taidon.dev'], resources: ['taidoninstances/status'], verbs: ['get', 'update', 'patch'] },
  { apiGroups: ['taidon.dev'], resources: ['taidoninstances/finalizers'], verbs: ['update'] },
  { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch', 'create', 'delete'] },
  { apiGroups: [''], resources: ['persistentvolumeclaims'], verbs: ['get', 'list', 'watch', 'create', 'delete'] },
  { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] },
  { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
  {
    apiGroups: ['coordination.k8s.io'],
    resources: ['leases'],
    resourceNames: ['taidon-env-manager-reconciler'],
    verbs: ['get', 'update'],
  },
];

/** What env-manager may do cluster-wide: the clones' PersistentVolumes, and reading nodes for placement. */
export const CLUSTER_RULES: V1PolicyRule[] = [
  { apiGroups: [''], resources: ['persistentvolumes'], verbs: ['get', 'list', 'watch', 'create', 'delete'] },
  { apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list', 'watch'] },
];

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
 * service account bound to exactly the rules above; answers a KubeConfig acting as that account (a token from
 * the TokenRequest API) beside the admin one.
 */
export async function sandboxNamespace(
  plane: ControlPlaneInfo,
  namespace: string,
): Promise<{ admin: KubeConfig; account: KubeConfig; cleanup(): Promise<void> }> {
  const admin = new KubeConfig();
  admin.loadFromFile(plane.kubeconfig);
  const core = admin.makeApiClient(CoreV1Api);
  const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
  await installCrd(admin);
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
    body: { metadata: { name: ENV_MANAGER_ACCOUNT }, automountServiceAccountToken: false },
  });
  const subject = { kind: 'ServiceAccount', name: ENV_MANAGER_ACCOUNT, namespace };
  await rbac.createNamespacedRole({
    namespace,
    body: { metadata: { name: 'env-manager' }, rules: SANDBOX_NAMESPACE_RULES },
  });
  await rbac.createNamespacedRoleBinding({
    namespace,
    body: {
      metadata: { name: 'env-manager' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'env-manager' },
      subjects: [subject],
    },
  });
  const clusterName = `taidon-env-manager-${namespace}`;
  await rbac.createClusterRole({ body: { metadata: { name: clusterName }, rules: CLUSTER_RULES } });
  await rbac.createClusterRoleBinding({
    body: {
      metadata: { name: clusterName },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: clusterName },
      subjects: [subject],
    },
  });
  const token = await core.createNamespacedServiceAccountToken({
    name: ENV_MANAGER_ACCOUNT,
    namespace,
    body: { spec: { audiences: [], expirationSeconds: 3600 } },
  });
  const cluster = admin.getCurrentCluster();
  const account = new KubeConfig();
  account.loadFromOptions({
    clusters: [
      { name: 'taidon-test', server: plane.server, caFile: cluster?.caFile ?? join(plane.dir, 'pki', 'ca.crt') },
    ],
    users: [{ name: ENV_MANAGER_ACCOUNT, token: token.status?.token }],
    contexts: [{ name: 'env-manager', cluster: 'taidon-test', user: ENV_MANAGER_ACCOUNT }],
    currentContext: 'env-manager',
  });
  return {
    admin,
    account,
    async cleanup() {
      // The namespace's deletion takes its objects; the PVs and the cluster role are cluster-wide.
      await core.deleteNamespace({ name: namespace }).catch(() => undefined);
      await rbac.deleteClusterRoleBinding({ name: clusterName }).catch(() => undefined);
      await rbac.deleteClusterRole({ name: clusterName }).catch(() => undefined);
      const volumes = await core.listPersistentVolume({ labelSelector: `taidon.dev/namespace=${namespace}` });
      for (const pv of volumes.items)
        await core.deletePersistentVolume({ name: pv.metadata?.name ?? '' }).catch(() => undefined);
    },
  };
}

export { until };
