import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiException, CoreV1Api, KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { CHART_DIR, find, type RenderedObject, renderChart, tool } from './chart.js';
import { type ControlPlaneInfo, skipReason } from './control-plane.js';
import { eventually } from './eventually.js';
import { useControlPlane } from './use-control-plane.js';

// charts/taidon against a real API server: linted strictly, rendered with the
// default and the production values and applied for real (Pod Security
// admission, RBAC and the stand-in CRDs below judge every object), the chart's
// sandbox namespace admitting a Pod built from the chart's sandbox values and
// refusing a privileged one, and RBAC asked what each service account may do.

const helmSkip = skipReason(['helm']);
const clusterSkip = skipReason([
  'kube-apiserver',
  'etcd',
  'kube-controller-manager',
  'kube-scheduler',
  'kwok',
  'kubectl',
  'helm',
]);
if (clusterSkip) console.warn(`e2e/k8s/chart skipped: ${clusterSkip}`);

/** Kinds the chart renders that have no namespace. */
const CLUSTER_SCOPED = new Set([
  'Namespace',
  'ClusterRole',
  'ClusterRoleBinding',
  'CustomResourceDefinition',
  'StorageClass',
  'ValidatingAdmissionPolicy',
  'ValidatingAdmissionPolicyBinding',
]);

const SERVICES = [
  'gateway',
  'idp',
  'user-profile',
  'audit-log',
  'vcs-sync',
  'sql-runner',
  'env-manager',
  'exercises',
] as const;

/**
 * The kinds the chart renders that belong to operators the test cluster does not run (Prometheus Operator,
 * CloudNativePG): CRDs that accept any spec, so the objects are stored and their metadata checked, not their
 * fields.
 */
function standInCrd(group: string, kind: string, plural: string, version = 'v1'): object {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.${group}` },
    spec: {
      group,
      scope: 'Namespaced',
      names: { kind, plural, singular: kind.toLowerCase(), listKind: `${kind}List` },
      versions: [
        {
          name: version,
          served: true,
          storage: true,
          schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
        },
      ],
    },
  };
}

const STAND_IN_CRDS = [
  standInCrd('monitoring.coreos.com', 'ServiceMonitor', 'servicemonitors'),
  standInCrd('monitoring.coreos.com', 'PrometheusRule', 'prometheusrules'),
  standInCrd('postgresql.cnpg.io', 'Cluster', 'clusters'),
  standInCrd('postgresql.cnpg.io', 'ScheduledBackup', 'scheduledbackups'),
];

describe.skipIf(helmSkip !== undefined)('charts/taidon, linted', () => {
  it.each([
    ['the default values', []],
    ['the development values', ['-f', join(CHART_DIR, 'values-development.yaml')]],
    ['the production values', ['-f', join(CHART_DIR, 'values-production.yaml')]],
  ])('passes helm lint --strict with %s', async (_name, args) => {
    const { stdout } = await tool('helm', ['lint', '--strict', CHART_DIR, ...args]);
    expect(stdout).toContain('1 chart(s) linted, 0 chart(s) failed');
  });

  it('refuses values its schema does not know, or of the wrong type', async () => {
    await expect(tool('helm', ['lint', '--strict', CHART_DIR, '--set', 'sqlRunner.replicaz=2'])).rejects.toThrow(
      /additional properties 'replicaz' not allowed/,
    );
    await expect(tool('helm', ['lint', '--strict', CHART_DIR, '--set', 'snapshotCache.driver=ext4'])).rejects.toThrow(
      /snapshotCache\/driver/,
    );
  });

  it('documents every value with a `# --` comment', async () => {
    for (const file of ['values.yaml', 'values-development.yaml', 'values-production.yaml']) {
      const lines = (await readFile(join(CHART_DIR, file), 'utf8')).split('\n');
      const undocumented: string[] = [];
      // Keys above the current line, with whether they (or one of theirs) carry a `# --` comment: keys inside a
      // documented value (resources, security contexts, quotas) are that value's data.
      const stack: { indent: number; documented: boolean }[] = [];
      lines.forEach((line, i) => {
        const key = /^(\s*)([A-Za-z][\w./-]*):(.*)$/.exec(line);
        if (!key) return;
        const indent = key[1]?.length ?? 0;
        while (stack.length > 0 && (stack.at(-1)?.indent ?? 0) >= indent) stack.pop();
        const inherited = stack.some((k) => k.documented);
        const documented = /^\s*# -- \S/.test(lines[i - 1] ?? '');
        const isSection = (key[3] ?? '').trim() === '';
        if (!documented && !inherited && !isSection) undocumented.push(`${file}:${i + 1}: ${line.trim()}`);
        stack.push({ indent, documented: documented || inherited });
      });
      expect(undocumented).toEqual([]);
    }
  });

  it('gives every platform Pod the restricted settings, probes on /health, and a token only to env-manager and the uninstall hook', async () => {
    const { objects } = await renderChart();
    const workloads = objects.filter((o) => ['Deployment', 'DaemonSet', 'Job'].includes(o.kind));
    expect(workloads.map((o) => o.metadata.name).sort()).toEqual(
      [
        ...SERVICES.map((s) => `taidon-${s}`),
        'taidon-snapshot-cache',
        'taidon-migrate',
        'taidon-example-packs-1',
        'taidon-uninstall',
      ].sort(),
    );
    for (const workload of workloads) {
      const pod = workload.spec.template.spec;
      expect(pod.securityContext, workload.metadata.name).toMatchObject({
        runAsNonRoot: true,
        seccompProfile: { type: 'RuntimeDefault' },
      });
      // The pre-delete hook talks to the API server too (list and delete TaidonInstances: chart-uninstall-hook.test.ts).
      expect(pod.automountServiceAccountToken, workload.metadata.name).toBe(
        ['taidon-env-manager', 'taidon-uninstall'].includes(workload.metadata.name),
      );
      for (const container of pod.containers) {
        expect(container.securityContext, workload.metadata.name).toEqual({
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ['ALL'] },
        });
        expect(container.resources.limits.memory, workload.metadata.name).toBeTruthy();
        if (workload.kind === 'Job') continue;
        expect(container.livenessProbe.httpGet.path).toBe('/health/live');
        expect(container.readinessProbe.httpGet.path).toBe('/health/ready');
      }
    }
    // Stateless services scale out; vcs-sync holds its projects' volume and is replaced, not rolled.
    expect(find(objects, 'Deployment', 'taidon-sql-runner').spec.replicas).toBe(2);
    expect(find(objects, 'Deployment', 'taidon-vcs-sync').spec).toMatchObject({
      replicas: 1,
      strategy: { type: 'Recreate' },
    });
    const agent = find(objects, 'DaemonSet', 'taidon-snapshot-cache').spec.template.spec;
    expect(agent.nodeSelector).toEqual({ 'taidon.dev/fast-disk': 'true' });
    expect(agent.tolerations).toEqual([{ key: 'taidon.dev/fast-disk', operator: 'Exists', effect: 'NoSchedule' }]);
    const job = find(objects, 'Job', 'taidon-migrate');
    expect(job.metadata.annotations?.['helm.sh/hook']).toBe('pre-install,pre-upgrade');
    // The Secrets the Job reads exist before it (hooks of a lower weight).
    const secrets = objects.filter((o) => o.kind === 'Secret');
    expect(secrets.length).toBe(11);
    for (const secret of secrets) expect(Number(secret.metadata.annotations?.['helm.sh/hook-weight'])).toBeLessThan(0);
  });

  it('denies sandboxes all egress and admits 5432 only from sql-runner and env-manager', async () => {
    const { objects } = await renderChart();
    const sandbox = find(objects, 'NetworkPolicy', 'taidon-sandboxes');
    expect(sandbox.metadata.namespace).toBe('taidon-sandboxes');
    expect(sandbox.spec.podSelector).toEqual({});
    expect(sandbox.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(sandbox.spec.egress).toEqual([]);
    expect(sandbox.spec.ingress).toHaveLength(1);
    expect(sandbox.spec.ingress[0].ports).toEqual([{ protocol: 'TCP', port: 5432 }]);
    const from = sandbox.spec.ingress[0].from.map(
      (peer: { podSelector: { matchLabels: Record<string, string> } }) =>
        peer.podSelector.matchLabels['app.kubernetes.io/component'],
    );
    expect(from).toEqual(['sql-runner', 'env-manager']);
    // The node agent is reached only by env-manager and sql-runner (and the metrics scrapers).
    const agent = find(objects, 'NetworkPolicy', 'taidon-snapshot-cache');
    const callers = agent.spec.ingress[0].from
      .map(
        (peer: { podSelector?: { matchLabels: Record<string, string> } }) =>
          peer.podSelector?.matchLabels['app.kubernetes.io/component'],
      )
      .filter(Boolean);
    expect(callers).toEqual(['env-manager', 'sql-runner']);
    // vcs-sync reaches Git remotes on the internet only: no private, loopback or metadata range.
    const vcs = find(objects, 'NetworkPolicy', 'taidon-vcs-sync');
    const remotes = vcs.spec.egress.find((rule: { to?: { ipBlock?: { cidr: string } }[] }) =>
      rule.to?.some((peer) => peer.ipBlock?.cidr === '0.0.0.0/0'),
    );
    expect(remotes.ports).toEqual([
      { protocol: 'TCP', port: 443 },
      { protocol: 'TCP', port: 22 },
    ]);
    expect(remotes.to[0].ipBlock.except).toEqual(
      expect.arrayContaining(['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '169.254.0.0/16', '100.64.0.0/10']),
    );
    expect(remotes.to[1].ipBlock).toMatchObject({ cidr: '::/0' });
    expect(remotes.to[1].ipBlock.except).toEqual(expect.arrayContaining(['fc00::/7', 'fe80::/10', '::1/128']));
    expect(vcs.spec.egress.filter((rule: { to?: unknown; ports?: unknown }) => !rule.to && !rule.ports)).toEqual([]);
  });

  it('deploys exercises behind the gateway: reached only from it (and the example packs Job), reaching sql-runner, vcs-sync and audit-log', async () => {
    const { objects } = await renderChart();
    const deployment = find(objects, 'Deployment', 'taidon-exercises');
    expect(deployment.spec.replicas).toBe(2);
    expect(find(objects, 'PodDisruptionBudget', 'taidon-exercises').spec.maxUnavailable).toBe(1);
    expect(find(objects, 'Service', 'taidon-exercises').spec.ports).toEqual([
      { name: 'http', port: 8080, targetPort: 'http' },
    ]);
    const gatewayEnv = find(objects, 'Deployment', 'taidon-gateway').spec.template.spec.containers[0].env as {
      name: string;
      value?: string;
    }[];
    expect(gatewayEnv.find((v) => v.name === 'EXERCISES_URL')?.value).toBe('http://taidon-exercises.default.svc:8080');
    const components = (peers: { podSelector?: { matchLabels: Record<string, string> } }[]) =>
      peers.map((peer) => peer.podSelector?.matchLabels['app.kubernetes.io/component']).filter(Boolean);
    const policy = find(objects, 'NetworkPolicy', 'taidon-exercises');
    expect(policy.spec.ingress).toHaveLength(1);
    // The gateway, and the Job that loads the example packs (ADR 0050).
    expect(components(policy.spec.ingress[0].from)).toEqual(['gateway', 'example-packs']);
    // Beside the gateway, only the metrics scrapers (a namespace, no Pod of the release).
    expect(JSON.stringify(policy.spec.ingress[0].from)).toContain('monitoring');
    const egress = policy.spec.egress.flatMap((rule: { to?: [] }) => components(rule.to ?? []));
    expect(egress.sort()).toEqual(['audit-log', 'sql-runner', 'vcs-sync']);
    // No way to the sandboxes, the node agents or the API server: its SQL runs through sql-runner.
    expect(JSON.stringify(policy.spec.egress)).not.toContain('namespaceSelector');
    for (const callee of ['sql-runner', 'vcs-sync', 'audit-log'])
      expect(components(find(objects, 'NetworkPolicy', `taidon-${callee}`).spec.ingress[0].from)).toContain(
        'exercises',
      );
    for (const other of ['idp', 'user-profile', 'env-manager', 'snapshot-cache'])
      expect(components(find(objects, 'NetworkPolicy', `taidon-${other}`).spec.ingress[0].from)).not.toContain(
        'exercises',
      );
    // The gateway reaches it.
    const gatewayEgress = find(objects, 'NetworkPolicy', 'taidon-gateway').spec.egress.flatMap((rule: { to?: [] }) =>
      components(rule.to ?? []),
    );
    expect(gatewayEgress).toContain('exercises');
  });

  it('loads the example packs by a Job of each revision, reaching only exercises and user-profile', async () => {
    const { objects } = await renderChart(['--set', 'examplePacks.adminEmail=admin@example.org']);
    const job = find(objects, 'Job', 'taidon-example-packs-1');
    // Not a hook: helm does not wait for its minutes of publishing, and each revision runs it once.
    expect(job.metadata.annotations?.['helm.sh/hook']).toBeUndefined();
    expect(job.spec.activeDeadlineSeconds).toBeGreaterThan(1800);
    const container = job.spec.template.spec.containers[0];
    expect(container.args).toEqual(['node', 'apps/local/dist/load-example-packs.js']);
    const env = Object.fromEntries(
      (container.env as { name: string; value?: string; valueFrom?: unknown }[]).map((v) => [
        v.name,
        v.value ?? v.valueFrom,
      ]),
    );
    expect(env).toEqual({
      LOG_LEVEL: 'info',
      SERVICE_TOKEN: { secretKeyRef: { name: 'taidon-service-token', key: 'token' } },
      EXERCISES_URL: 'http://taidon-exercises.default.svc:8080',
      USER_PROFILE_URL: 'http://taidon-user-profile.default.svc:8080',
      TAIDON_ADMIN_EMAIL: 'admin@example.org',
      EXAMPLE_PACKS_ADMIN_WAIT_SECONDS: '1800',
    });
    const components = (peers: { podSelector?: { matchLabels: Record<string, string> } }[]) =>
      peers.map((peer) => peer.podSelector?.matchLabels['app.kubernetes.io/component']).filter(Boolean);
    const policy = find(objects, 'NetworkPolicy', 'taidon-example-packs');
    expect(policy.spec.ingress).toBeUndefined();
    expect(policy.spec.egress.flatMap((rule: { to?: [] }) => components(rule.to ?? []))).toEqual([
      'exercises',
      'user-profile',
    ]);
    for (const callee of ['exercises', 'user-profile'])
      expect(components(find(objects, 'NetworkPolicy', `taidon-${callee}`).spec.ingress[0].from)).toContain(
        'example-packs',
      );
    const disabled = (await renderChart(['--set', 'examplePacks.enabled=false'])).objects;
    expect(disabled.filter((o) => o.metadata.name.startsWith('taidon-example-packs'))).toEqual([]);
  });

  it("admits the metrics scrapers to the gateway beside its ingress, and minikube's API port", async () => {
    const production = (await renderChart(['-f', join(CHART_DIR, 'values-production.yaml')])).objects;
    const gateway = find(production, 'NetworkPolicy', 'taidon-gateway');
    const peers = JSON.stringify(gateway.spec.ingress[0].from);
    // The production values name the ingress controller's namespace; Prometheus must still reach /metrics.
    expect(gateway.spec.ingress[0].from.length).toBeGreaterThan(1);
    expect(peers).toContain('monitoring');
    const development = (await renderChart(['-f', join(CHART_DIR, 'values-development.yaml')])).objects;
    const envManager = find(development, 'NetworkPolicy', 'taidon-env-manager');
    const apiPorts = envManager.spec.egress.flatMap((rule: { ports?: { port: number }[] }) =>
      (rule.ports ?? []).map((p) => p.port),
    );
    // minikube's API server listens on 8443, which the policy sees after the `kubernetes` Service's translation.
    expect(apiPorts).toContain(8443);
  });

  it("renders the clone volumes' admission policy for the release's env-manager and sandbox namespace, none when off", async () => {
    const { objects } = await renderChart(['--namespace', 'platform', '--set', 'sandbox.namespace=learners']);
    const policy = find(objects, 'ValidatingAdmissionPolicy', 'taidon-clone-volumes-platform');
    const text = JSON.stringify(policy.spec);
    expect(text).toContain('system:serviceaccount:platform:taidon-env-manager');
    expect(text).toContain('learners');
    expect(text).toContain('/var/lib/taidon/snapshot-cache/volumes/');
    expect(find(objects, 'ValidatingAdmissionPolicyBinding', 'taidon-clone-volumes-platform').spec).toEqual({
      policyName: 'taidon-clone-volumes-platform',
      validationActions: ['Deny'],
    });
    const off = await renderChart(['--set', 'sandbox.volumeAdmissionPolicy=false']);
    expect(off.objects.filter((o) => o.kind.startsWith('ValidatingAdmissionPolicy'))).toEqual([]);
  });

  it('renders the CloudNativePG Cluster with backups only when enabled', async () => {
    const plain = await renderChart();
    expect(plain.objects.some((o) => o.apiVersion.startsWith('postgresql.cnpg.io/'))).toBe(false);
    const { objects } = await renderChart(['-f', join(CHART_DIR, 'values-production.yaml')]);
    const cluster = find(objects, 'Cluster', 'taidon-pg');
    expect(cluster.spec.instances).toBe(3);
    expect(cluster.spec.backup.barmanObjectStore.destinationPath).toBe('s3://taidon-backups/control-plane');
    expect(find(objects, 'ScheduledBackup', 'taidon-pg-daily').spec.cluster.name).toBe('taidon-pg');
    // Every service's URL points at the Cluster's read-write Service; the Job runs once the Cluster exists.
    const secret = find(objects, 'Secret', 'taidon-idp-db');
    expect(Buffer.from(secret.data['database-url'], 'base64').toString()).toMatch(
      /^postgresql:\/\/taidon_idp:[A-Za-z0-9]{40}@taidon-pg-rw\.default\.svc:5432\/taidon$/,
    );
    expect(find(objects, 'Job', 'taidon-migrate').metadata.annotations?.['helm.sh/hook']).toBe(
      'post-install,pre-upgrade',
    );
  });
});

describe.skipIf(clusterSkip !== undefined)('charts/taidon, applied to the API server', () => {
  let plane: ControlPlaneInfo;
  let release: () => Promise<void>;
  let core: CoreV1Api;
  let work: string;
  const namespace = `chart-${process.pid}`;
  const sandboxes = `chart-${process.pid}-sandboxes`;
  const prodNamespace = `chart-prod-${process.pid}`;
  const prodSandboxes = `chart-prod-${process.pid}-sandboxes`;

  const kubectl = (args: string[]) => tool('kubectl', ['--kubeconfig', plane.kubeconfig, ...args]);
  /**
   * `kubectl apply --server-side` of rendered objects, as `helm install --namespace ns` places them: objects
   * that name no namespace go to `ns` (the sandbox namespace's objects name theirs).
   */
  const apply = async (name: string, objects: object[], ns = 'default') => {
    const file = join(work, name);
    const placed = objects.map((o) => {
      const object = o as RenderedObject;
      if (CLUSTER_SCOPED.has(object.kind) || object.metadata.namespace) return object;
      return { ...object, metadata: { ...object.metadata, namespace: ns } };
    });
    await writeFile(file, JSON.stringify({ apiVersion: 'v1', kind: 'List', items: placed }));
    return kubectl(['apply', '--server-side', '--force-conflicts', '-f', file]);
  };

  beforeAll(async () => {
    ({ plane, release } = await useControlPlane());
    work = await mkdtemp(join(tmpdir(), 'taidon-chart-'));
    const config = new KubeConfig();
    config.loadFromFile(plane.kubeconfig);
    core = config.makeApiClient(CoreV1Api);
    // CRDs are cluster-wide and the control plane is shared: create the missing ones, never replace one
    // another test file made. TaidonInstance comes from the chart's crds/ (as helm installs it) where present.
    const crdFile = join(CHART_DIR, 'crds', 'taidoninstances.yaml');
    const taidonInstances = existsSync(crdFile)
      ? (parseYaml(await readFile(crdFile, 'utf8')) as object)
      : standInCrd('taidon.dev', 'TaidonInstance', 'taidoninstances', 'v1alpha1');
    for (const crd of [...STAND_IN_CRDS, taidonInstances]) {
      const file = join(work, 'crd.json');
      await writeFile(file, JSON.stringify(crd));
      await kubectl(['create', '-f', file]).catch((error: Error) => {
        if (!/AlreadyExists|already exists/.test(error.message)) throw error;
      });
    }
    await kubectl([
      'wait',
      'crd/taidoninstances.taidon.dev',
      '--for=condition=Established',
      '--timeout=60s',
      'crd/servicemonitors.monitoring.coreos.com',
      'crd/prometheusrules.monitoring.coreos.com',
      'crd/clusters.postgresql.cnpg.io',
      'crd/scheduledbackups.postgresql.cnpg.io',
    ]);
    for (const ns of [namespace, prodNamespace]) await core.createNamespace({ body: { metadata: { name: ns } } });
  }, 300_000);

  afterAll(async () => {
    for (const ns of [namespace, sandboxes, prodNamespace, prodSandboxes]) {
      // Best effort: the shared control plane is thrown away at the end of the run anyway.
      await core?.deleteNamespace({ name: ns }).catch(() => undefined);
    }
    for (const ns of [namespace, prodNamespace]) {
      await kubectl([
        'delete',
        'clusterrole,clusterrolebinding',
        `taidon-env-manager-${ns}`,
        '--ignore-not-found',
      ]).catch(() => undefined);
      await kubectl([
        'delete',
        'validatingadmissionpolicybinding,validatingadmissionpolicy',
        `taidon-clone-volumes-${ns}`,
        '--ignore-not-found',
      ]).catch(() => undefined);
    }
    if (work) await rm(work, { recursive: true, force: true });
    await release?.();
  }, 120_000);

  it('applies every object rendered with the default values, the sandbox namespace enforcing restricted', async () => {
    const { objects } = await renderChart(['--namespace', namespace, '--set', `sandbox.namespace=${sandboxes}`]);
    const { stdout } = await apply('default.json', objects, namespace);
    expect(stdout.trim().split('\n')).toHaveLength(objects.length);
    const ns = await core.readNamespace({ name: sandboxes });
    expect(ns.metadata?.labels).toMatchObject({
      'pod-security.kubernetes.io/enforce': 'restricted',
      'pod-security.kubernetes.io/enforce-version': 'latest',
    });
    const quota = await core.readNamespacedResourceQuota({ name: 'taidon-sandboxes', namespace: sandboxes });
    expect(quota.spec?.hard?.pods).toBe('1200');
    const limits = await core.readNamespacedLimitRange({ name: 'taidon-sandboxes', namespace: sandboxes });
    expect(limits.spec?.limits[0]?.max).toEqual({ cpu: '2', memory: '1Gi' });
    // The Deployments' Pods pass admission in the release namespace and run on the kwok nodes.
    await eventually('the gateway Pods Running', async () => {
      const pods = await core.listNamespacedPod({ namespace, labelSelector: 'app.kubernetes.io/component=gateway' });
      return pods.items.length === 2 && pods.items.every((p) => p.status?.phase === 'Running') ? pods : undefined;
    });
  }, 180_000);

  it('applies every object rendered with the production values (CloudNativePG, ServiceMonitor, PrometheusRule)', async () => {
    const { objects } = await renderChart([
      '--namespace',
      prodNamespace,
      '-f',
      join(CHART_DIR, 'values-production.yaml'),
      '--set',
      `sandbox.namespace=${prodSandboxes}`,
    ]);
    const kinds = new Set(objects.map((o) => o.kind));
    for (const kind of ['Cluster', 'ScheduledBackup', 'ServiceMonitor', 'PrometheusRule', 'Ingress'])
      expect(kinds).toContain(kind);
    const { stdout } = await apply('production.json', objects, prodNamespace);
    expect(stdout.trim().split('\n')).toHaveLength(objects.length);
    const { stdout: rule } = await kubectl(['get', 'prometheusrule', 'taidon', '-n', prodNamespace, '-o', 'json']);
    expect((JSON.parse(rule) as RenderedObject).spec.groups.length).toBe(3);
    // The exercises service's Pods pass admission and run, as many as the production values ask.
    const replicas = find(objects, 'Deployment', 'taidon-exercises').spec.replicas as number;
    await eventually('the exercises Pods Running', async () => {
      const pods = await core.listNamespacedPod({
        namespace: prodNamespace,
        labelSelector: 'app.kubernetes.io/component=exercises',
      });
      return pods.items.length === replicas && pods.items.every((p) => p.status?.phase === 'Running')
        ? pods
        : undefined;
    });
  }, 180_000);

  describe('the sandbox namespace', () => {
    async function sandboxPod(name: string): Promise<V1Pod> {
      const values = parseYaml(await readFile(join(CHART_DIR, 'values.yaml'), 'utf8')) as {
        sandbox: {
          image: { repository: string; tag: string };
          podSecurityContext: object;
          containerSecurityContext: object;
          resources: object;
        };
      };
      return {
        metadata: { name },
        spec: {
          automountServiceAccountToken: false,
          securityContext: values.sandbox.podSecurityContext,
          containers: [
            {
              name: 'postgres',
              image: `${values.sandbox.image.repository}:${values.sandbox.image.tag}`,
              args: ['postgres', '-D', '/var/lib/postgresql/data'],
              ports: [{ containerPort: 5432 }],
              securityContext: values.sandbox.containerSecurityContext,
              resources: values.sandbox.resources,
              volumeMounts: [
                { name: 'run', mountPath: '/run/postgresql' },
                { name: 'tmp', mountPath: '/tmp' },
              ],
            },
          ],
          volumes: [
            { name: 'run', emptyDir: {} },
            { name: 'tmp', emptyDir: {} },
          ],
        },
      };
    }

    async function refusal(pod: V1Pod): Promise<{ code: number; message: string }> {
      const error = await core.createNamespacedPod({ namespace: sandboxes, body: pod }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ApiException);
      const api = error as ApiException<string>;
      return { code: api.code, message: (JSON.parse(api.body) as { message: string }).message };
    }

    it('admits a Pod built from the chart sandbox values, which runs on a kwok node', async () => {
      await eventually('the sandbox default service account', () =>
        core.readNamespacedServiceAccount({ name: 'default', namespace: sandboxes }),
      );
      await core.createNamespacedPod({ namespace: sandboxes, body: await sandboxPod('sandbox') });
      const running = await eventually('the sandbox Pod Running', async () => {
        const pod = await core.readNamespacedPod({ name: 'sandbox', namespace: sandboxes });
        return pod.status?.phase === 'Running' ? pod : undefined;
      });
      expect(plane.nodes).toContain(running.spec?.nodeName);
      const quota = await eventually('the quota counting the Pod', async () => {
        const q = await core.readNamespacedResourceQuota({ name: 'taidon-sandboxes', namespace: sandboxes });
        return q.status?.used?.pods === '1' ? q : undefined;
      });
      expect(quota.status?.used?.['requests.memory']).toBe('128Mi');
    }, 120_000);

    it('refuses a privileged Pod and a Pod with a hostPath volume (403 from Pod Security)', async () => {
      const privileged = await sandboxPod('privileged');
      const container = privileged.spec?.containers[0];
      if (container) container.securityContext = { privileged: true };
      const refused = await refusal(privileged);
      expect(refused.code).toBe(403);
      expect(refused.message).toContain('violates PodSecurity "restricted:latest"');
      expect(refused.message).toContain('privileged');

      const hostPath = await sandboxPod('host-path');
      hostPath.spec?.volumes?.push({ name: 'clone', hostPath: { path: '/var/lib/taidon/snapshot-cache' } });
      const refusedHostPath = await refusal(hostPath);
      expect(refusedHostPath.code).toBe(403);
      expect(refusedHostPath.message).toContain('hostPath');
      await expect(core.readNamespacedPod({ name: 'privileged', namespace: sandboxes })).rejects.toMatchObject({
        code: 404,
      });
    });
  });

  describe('RBAC', () => {
    const canI = async (service: string, args: string[]): Promise<'yes' | 'no'> => {
      const as = `--as=system:serviceaccount:${namespace}:taidon-${service}`;
      // can-i prints its answer last on stdout and exits 1 for "no" (after warnings such as a type it does not know).
      const output = await kubectl(['auth', 'can-i', as, ...args]).then(
        (r) => r.stdout,
        (e: Error) => e.message,
      );
      const answer = /(?:^|\s)(yes|no)\s*$/.exec(output)?.[1];
      return answer === 'yes' || answer === 'no' ? answer : (output as 'yes');
    };

    it('lets env-manager manage its objects in the sandbox namespace, volumes and leases, and nothing else', async () => {
      const allowed: [string, string][] = [
        ['create taidoninstances.taidon.dev', sandboxes],
        ['watch taidoninstances.taidon.dev', sandboxes],
        ['delete taidoninstances.taidon.dev', sandboxes],
        ['update taidoninstances.taidon.dev --subresource=status', sandboxes],
        ['update taidoninstances.taidon.dev --subresource=finalizers', sandboxes],
        ['create pods', sandboxes],
        ['delete pods', sandboxes],
        ['watch pods', sandboxes],
        ['create persistentvolumeclaims', sandboxes],
        ['delete persistentvolumeclaims', sandboxes],
        ['create events', sandboxes],
        ['create persistentvolumes', ''],
        ['delete persistentvolumes', ''],
        ['list nodes', ''],
        // The node agents, found as Pods in the platform namespace (ADR 0045): read only.
        ['list pods', namespace],
        ['get pods', namespace],
        // The reconciler's Lease (ADR 0034): in the sandbox namespace, get and update by its name only.
        ['create leases.coordination.k8s.io', sandboxes],
        ['update leases.coordination.k8s.io/taidon-env-manager-reconciler', sandboxes],
        ['get leases.coordination.k8s.io/taidon-env-manager-reconciler', sandboxes],
      ];
      const refused: [string, string][] = [
        ['get secrets', sandboxes],
        ['get secrets', namespace],
        ['list secrets', ''],
        ['create pods', namespace],
        ['delete pods', namespace],
        ['update pods', namespace],
        ['update pods', sandboxes],
        ['create pods --subresource=exec', sandboxes],
        ['create taidoninstances.taidon.dev', namespace],
        ['create taidoninstances.taidon.dev', 'default'],
        ['delete nodes', ''],
        ['patch nodes', ''],
        ['update persistentvolumes', ''],
        ['delete leases.coordination.k8s.io/taidon-env-manager-reconciler', sandboxes],
        ['update leases.coordination.k8s.io/someone-elses-lease', sandboxes],
        ['get leases.coordination.k8s.io/kube-scheduler', 'kube-system'],
        ['create leases.coordination.k8s.io', namespace],
        ['delete taidoninstances.taidon.dev --subresource=status', sandboxes],
        // Verbs the runtime never calls (it updates, never patches; it creates events, never patches them).
        ['patch taidoninstances.taidon.dev', sandboxes],
        ['patch taidoninstances.taidon.dev --subresource=status', sandboxes],
        ['get taidoninstances.taidon.dev --subresource=status', sandboxes],
        ['patch events', sandboxes],
        ['list pods', 'kube-system'],
        ['create deployments.apps', namespace],
      ];
      const ask = ([what, ns]: [string, string]) =>
        canI('env-manager', [...what.split(' '), ...(ns ? ['-n', ns] : ['--all-namespaces=false'])]);
      const label = ([what, ns]: [string, string]) => `${what} in ${ns || 'the cluster'}`;
      const answers = async (asks: [string, string][]) =>
        Object.fromEntries(await Promise.all(asks.map(async (a) => [label(a), await ask(a)])));
      expect(await answers(allowed)).toEqual(Object.fromEntries(allowed.map((a) => [label(a), 'yes'])));
      expect(await answers(refused)).toEqual(Object.fromEntries(refused.map((a) => [label(a), 'no'])));
    }, 120_000);

    it.each([...SERVICES.filter((s) => s !== 'env-manager'), 'snapshot-cache'])(
      'gives %s no access to the API: no Secrets, no Pods, no instances',
      async (service) => {
        const asks: [string, string][] = [
          ['get secrets', namespace],
          ['list secrets', sandboxes],
          ['list pods', namespace],
          ['create pods', sandboxes],
          ['create taidoninstances.taidon.dev', sandboxes],
          ['create leases.coordination.k8s.io', sandboxes],
          ['list persistentvolumes', ''],
        ];
        const answers = await Promise.all(
          asks.map(async ([what, ns]) => [
            `${what} in ${ns || 'the cluster'}`,
            await canI(service, [...what.split(' '), ...(ns ? ['-n', ns] : [])]),
          ]),
        );
        expect(Object.fromEntries(answers)).toEqual(Object.fromEntries(answers.map(([what]) => [what, 'no'])));
      },
      60_000,
    );

    it('binds no Role or ClusterRole of the chart to Secrets', async () => {
      const { objects } = await renderChart();
      const rules = objects
        .filter((o) => o.kind === 'Role' || o.kind === 'ClusterRole')
        .flatMap((o) => o.rules as { resources: string[]; verbs: string[] }[]);
      expect(rules.length).toBeGreaterThan(0);
      for (const rule of rules) {
        expect(rule.resources).not.toContain('secrets');
        expect(rule.resources).not.toContain('*');
        expect(rule.verbs).not.toContain('*');
      }
    });
  });
});
