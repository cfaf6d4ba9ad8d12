import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHART_DIR, tool } from './chart.js';
import { type ControlPlaneInfo, skipReason } from './control-plane.js';
import { useControlPlane } from './use-control-plane.js';

// `helm install` and `helm upgrade` of charts/taidon for real, hooks included:
// the Secrets (pre-install hooks) exist before the migration Job, which kwok
// completes; --wait sees every Deployment ready on the kwok nodes; an upgrade
// keeps every generated password (lookup) and runs the Job again; an
// uninstall leaves the Secrets and the projects' volume claim.

const skip = skipReason(['kube-apiserver', 'etcd', 'kube-controller-manager', 'kube-scheduler', 'kwok', 'helm']);
if (skip) console.warn(`e2e/k8s/helm-install skipped: ${skip}`);

describe.skipIf(skip !== undefined)('helm install of charts/taidon', () => {
  let plane: ControlPlaneInfo;
  let release: () => Promise<void>;
  let core: CoreV1Api;
  let work: string;
  const namespace = `helm-${process.pid}`;
  const sandboxes = `helm-${process.pid}-sandboxes`;
  const volume = `helm-${process.pid}-projects`;

  const helm = (args: string[]) =>
    tool('helm', [...args, '--kubeconfig', plane.kubeconfig, '--namespace', namespace], { timeoutMs: 300_000 });
  const chartArgs = () => [
    CHART_DIR,
    '--set',
    `sandbox.namespace=${sandboxes}`,
    // Cluster-wide: another test file of the run may have made it.
    '--set',
    'sandbox.createStorageClass=false',
    '--set',
    `vcsSync.persistence.storageClass=${volume}`,
    '--wait',
    '--timeout',
    '240s',
  ];

  /** The data of every Secret the chart generated, by name. */
  async function generatedSecrets(): Promise<Record<string, Record<string, string>>> {
    const list = await core.listNamespacedSecret({ namespace, labelSelector: 'app.kubernetes.io/instance=taidon' });
    return Object.fromEntries(list.items.map((s) => [s.metadata?.name ?? '', s.data ?? {}]));
  }

  beforeAll(async () => {
    ({ plane, release } = await useControlPlane());
    work = await mkdtemp(join(tmpdir(), 'taidon-helm-'));
    const config = new KubeConfig();
    config.loadFromFile(plane.kubeconfig);
    core = config.makeApiClient(CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    // No provisioner here: a volume made ahead for vcs-sync's claim (its storage class names only it).
    await core.createPersistentVolume({
      body: {
        metadata: { name: volume },
        spec: {
          capacity: { storage: '20Gi' },
          accessModes: ['ReadWriteOnce'],
          storageClassName: volume,
          hostPath: { path: `/tmp/${volume}` },
        },
      },
    });
    // The control-plane superuser URL the default values name (never used: kwok runs no container).
    const secret = join(work, 'superuser.json');
    await writeFile(
      secret,
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'postgresql-superuser', namespace },
        stringData: { uri: 'postgresql://postgres:unused@postgresql:5432/postgres' },
      }),
    );
    await tool('kubectl', ['--kubeconfig', plane.kubeconfig, 'create', '-f', secret]);
  }, 300_000);

  afterAll(async () => {
    // Best effort: the shared control plane is thrown away at the end of the run anyway.
    await helm(['uninstall', 'taidon', '--wait']).catch(() => undefined);
    for (const ns of [namespace, sandboxes]) await core?.deleteNamespace({ name: ns }).catch(() => undefined);
    await core?.deletePersistentVolume({ name: volume }).catch(() => undefined);
    if (work) await rm(work, { recursive: true, force: true });
    await release?.();
  }, 300_000);

  it('installs with its hooks, upgrades keeping every generated secret, uninstalls leaving them', async () => {
    await helm(['install', 'taidon', ...chartArgs()]);
    const { stdout: status } = await helm(['status', 'taidon', '-o', 'json']);
    expect((JSON.parse(status) as { info: { status: string } }).info.status).toBe('deployed');

    const installed = await generatedSecrets();
    expect(Object.keys(installed).sort()).toEqual(
      [
        'taidon-audit-log-db',
        'taidon-env-manager-db',
        'taidon-exercises-db',
        'taidon-idp-db',
        'taidon-sandbox-admin',
        'taidon-service-token',
        'taidon-snapshot-cache-db',
        'taidon-sql-runner-db',
        'taidon-user-profile-db',
        'taidon-vcs-sync-db',
        'taidon-vcs-sync-token-key',
      ].sort(),
    );
    // The migration Job ran (kwok completes Job Pods) and was deleted on success (hook-delete-policy); the
    // example packs' Job of this revision is the release's own and stays (its TTL removes it).
    const jobs = await tool('kubectl', [
      '--kubeconfig',
      plane.kubeconfig,
      '-n',
      namespace,
      'get',
      'jobs',
      '-o',
      'name',
    ]);
    expect(jobs.stdout.trim()).toBe('job.batch/taidon-example-packs-1');
    const pods = await core.listNamespacedPod({ namespace, labelSelector: 'app.kubernetes.io/component=sql-runner' });
    expect(pods.items.filter((p) => p.status?.phase === 'Running')).toHaveLength(2);
    const exercises = await core.listNamespacedPod({
      namespace,
      labelSelector: 'app.kubernetes.io/component=exercises',
    });
    expect(exercises.items.filter((p) => p.status?.phase === 'Running')).toHaveLength(2);

    await helm(['upgrade', 'taidon', ...chartArgs(), '--set', 'sqlRunner.replicas=3']);
    expect(await generatedSecrets()).toEqual(installed);
    const { stdout: history } = await helm(['history', 'taidon', '-o', 'json']);
    expect((JSON.parse(history) as { revision: number; status: string }[]).map((r) => r.status)).toEqual([
      'superseded',
      'deployed',
    ]);
    // The upgrade's own example-packs Job replaces the install's: one run per revision.
    const upgradedJobs = await tool('kubectl', [
      '--kubeconfig',
      plane.kubeconfig,
      '-n',
      namespace,
      'get',
      'jobs',
      '-o',
      'name',
    ]);
    expect(upgradedJobs.stdout.trim()).toBe('job.batch/taidon-example-packs-2');
    const scaled = await core.listNamespacedPod({ namespace, labelSelector: 'app.kubernetes.io/component=sql-runner' });
    expect(scaled.items.filter((p) => p.status?.phase === 'Running').length).toBeGreaterThanOrEqual(3);

    await helm(['uninstall', 'taidon', '--wait']);
    // Hooks and kept objects stay: a reinstall finds the same passwords, and no project is lost.
    expect(await generatedSecrets()).toEqual(installed);
    const claim = await core.readNamespacedPersistentVolumeClaim({ name: 'taidon-vcs-sync-projects', namespace });
    expect(claim.spec?.volumeName).toBe(volume);
    const deployments = await tool('kubectl', [
      '--kubeconfig',
      plane.kubeconfig,
      '-n',
      namespace,
      'get',
      'deployments',
      '-o',
      'name',
    ]);
    expect(deployments.stdout.trim()).toBe('');
  }, 600_000);
});
