import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ApiException, CoordinationV1Api, CoreV1Api, KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ControlPlaneInfo, skipReason, toolPath } from './control-plane.js';
import { eventually } from './eventually.js';
import { useControlPlane } from './use-control-plane.js';

// The foundation of the Kubernetes tests: a real control plane (etcd,
// kube-apiserver, controller-manager, scheduler, kwok nodes) enforces Pod
// Security, schedules a Pod onto a fake node that reports it Running, and
// stores a Lease, the primitive the runtime's leader election uses.

const execFileP = promisify(execFile);
const controlPlaneSkip = skipReason();
const toolsSkip = skipReason(['helm', 'promtool']);
if (controlPlaneSkip) console.warn(`e2e/k8s skipped: ${controlPlaneSkip}`);

/** A Pod the restricted profile admits: non-root, no privilege escalation, no capabilities, RuntimeDefault seccomp. */
function compliantPod(name: string): V1Pod {
  return {
    metadata: { name },
    spec: {
      automountServiceAccountToken: false,
      securityContext: { runAsNonRoot: true, runAsUser: 70, seccompProfile: { type: 'RuntimeDefault' } },
      containers: [
        {
          name: 'postgres',
          image: 'postgres:17',
          securityContext: {
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            capabilities: { drop: ['ALL'] },
          },
          resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '500m', memory: '256Mi' } },
        },
      ],
    },
  };
}

/**
 * A Lease's times are MicroTime: the API server parses six fraction digits
 * only, and client-node 1.4 sends a Date's toISOString() (three), which it
 * refuses with 400. A Date that prints microseconds is accepted.
 */
class MicroTime extends Date {
  override toISOString(): string {
    return super.toISOString().replace(/Z$/, '000Z');
  }
}

describe.skipIf(controlPlaneSkip !== undefined)('Kubernetes control plane', () => {
  let plane: ControlPlaneInfo;
  let release: () => Promise<void>;
  let core: CoreV1Api;
  let coordination: CoordinationV1Api;
  const namespace = `smoke-${process.pid}`;

  beforeAll(async () => {
    ({ plane, release } = await useControlPlane());
    const config = new KubeConfig();
    config.loadFromFile(plane.kubeconfig);
    core = config.makeApiClient(CoreV1Api);
    coordination = config.makeApiClient(CoordinationV1Api);
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
    // The ServiceAccount admission plugin refuses Pods until the namespace's default account exists.
    await eventually('the default service account', () =>
      core.readNamespacedServiceAccount({ name: 'default', namespace }),
    );
  }, 300_000);

  afterAll(async () => {
    await core?.deleteNamespace({ name: namespace }).catch(() => {});
    await release?.();
  }, 60_000);

  it('refuses a privileged Pod in a namespace enforcing the restricted profile', async () => {
    const pod = compliantPod('privileged');
    for (const container of pod.spec?.containers ?? []) container.securityContext = { privileged: true };
    const error = await core.createNamespacedPod({ namespace, body: pod }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ApiException);
    const api = error as ApiException<string>;
    expect(api.code).toBe(403);
    const body = JSON.parse(api.body) as { reason: string; message: string };
    expect(body.reason).toBe('Forbidden');
    expect(body.message).toContain('violates PodSecurity "restricted:latest"');
    expect(body.message).toContain('privileged');
    await expect(core.readNamespacedPod({ name: 'privileged', namespace })).rejects.toMatchObject({ code: 404 });
  });

  it('schedules a compliant Pod onto a kwok node, where it becomes Running', async () => {
    await core.createNamespacedPod({ namespace, body: compliantPod('sandbox') });
    const running = await eventually('the Pod Running', async () => {
      const pod = await core.readNamespacedPod({ name: 'sandbox', namespace });
      return pod.status?.phase === 'Running' ? pod : undefined;
    });
    expect(plane.nodes).toContain(running.spec?.nodeName);
    expect(running.status?.conditions?.find((c) => c.type === 'PodScheduled')?.status).toBe('True');
  });

  it('creates and reads a Lease (leader election)', async () => {
    const now = new MicroTime();
    await coordination.createNamespacedLease({
      namespace,
      body: {
        metadata: { name: 'env-manager-reconciler' },
        spec: { holderIdentity: 'replica-a', leaseDurationSeconds: 15, acquireTime: now, renewTime: now },
      },
    });
    const lease = await coordination.readNamespacedLease({ name: 'env-manager-reconciler', namespace });
    expect(lease.spec?.holderIdentity).toBe('replica-a');
    expect(lease.spec?.leaseDurationSeconds).toBe(15);
    // Read back, client-node 1.4 leaves a MicroTime as the string the server sent, whatever its type says.
    expect(new Date(String(lease.spec?.renewTime)).getTime()).toBe(now.getTime());
    expect(lease.metadata?.resourceVersion).toBeTruthy();
    // A second create is a conflict: only one holder record per name, which election relies on.
    await expect(
      coordination.createNamespacedLease({
        namespace,
        body: { metadata: { name: 'env-manager-reconciler' }, spec: { holderIdentity: 'replica-b' } },
      }),
    ).rejects.toMatchObject({ code: 409 });
  });
});

describe.skipIf(toolsSkip !== undefined)('chart and alert tools', () => {
  it('helm and promtool run from the tools dir', async () => {
    const helm = await execFileP(toolPath('helm'), ['version', '--short'], { timeout: 30_000 });
    // Built from the module, helm knows its major and minor version only (no release ldflags).
    expect(helm.stdout).toMatch(/^v4\.\d+/);
    const promtool = await execFileP(toolPath('promtool'), ['--version'], { timeout: 30_000 });
    expect(`${promtool.stdout}${promtool.stderr}`).toMatch(/promtool, version .*go version: +go1\.\d+/s);
  });
});
