import { describe, expect, it } from 'vitest';
import { find, renderChart } from './chart.js';
import { skipReason } from './control-plane.js';

// The chart's pre-delete hook as rendered: its account may list and delete
// TaidonInstances in the sandbox namespace and nothing else, it reaches only
// DNS and the API server, and it runs env-manager's uninstall entry point
// before Helm removes env-manager. What it does against a real API server
// with a running reconciler is services/env-manager/test/runtimes/
// kubernetes-uninstall.test.ts (with the Role rendered here); a real
// `helm uninstall` on a cluster is the minikube scripts'.

const helmSkip = skipReason(['helm']);
if (helmSkip) console.warn(`e2e/k8s/chart-uninstall-hook skipped: ${helmSkip}`);

describe.skipIf(helmSkip !== undefined)("the chart's pre-delete hook", () => {
  it('deletes the sandbox instances by a Job whose account may list and delete them there, nothing else', async () => {
    const { objects } = await renderChart(['--namespace', 'taidon']);
    const hooked = objects.filter((o) => o.metadata.annotations?.['helm.sh/hook'] === 'pre-delete');
    expect(hooked.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual([
      'Job/taidon-uninstall',
      'NetworkPolicy/taidon-uninstall',
      'Role/taidon-uninstall',
      'RoleBinding/taidon-uninstall',
      'ServiceAccount/taidon-uninstall',
    ]);
    // The account, its Role and binding exist before the Job (a lower weight), and all go once it succeeded.
    for (const o of hooked) {
      expect(Number(o.metadata.annotations?.['helm.sh/hook-weight'])).toBe(o.kind === 'Job' ? 0 : -10);
      expect(o.metadata.annotations?.['helm.sh/hook-delete-policy']).toBe('before-hook-creation,hook-succeeded');
    }
    const role = find(objects, 'Role', 'taidon-uninstall');
    expect(role.metadata.namespace).toBe('taidon-sandboxes');
    expect(role.rules).toEqual([
      { apiGroups: ['taidon.dev'], resources: ['taidoninstances'], verbs: ['list', 'delete'] },
    ]);
    const binding = find(objects, 'RoleBinding', 'taidon-uninstall');
    expect(binding.metadata.namespace).toBe('taidon-sandboxes');
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: 'taidon-uninstall', namespace: 'taidon' }]);

    const pod = find(objects, 'Job', 'taidon-uninstall').spec.template.spec;
    expect(pod.serviceAccountName).toBe('taidon-uninstall');
    expect(pod.automountServiceAccountToken).toBe(true);
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    const [container] = pod.containers;
    expect(container.args).toEqual(['node', 'services/env-manager/dist/uninstall.js']);
    expect(container.env).toEqual([
      { name: 'SANDBOX_NAMESPACE', value: 'taidon-sandboxes' },
      { name: 'UNINSTALL_TIMEOUT_MS', value: '300000' },
    ]);
    expect(container.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    });
    expect(container.resources.limits.memory).toBeTruthy();

    const policy = find(objects, 'NetworkPolicy', 'taidon-uninstall');
    expect(policy.spec.podSelector.matchLabels['app.kubernetes.io/component']).toBe('uninstall');
    expect(policy.spec.ingress).toEqual([]);
    expect(policy.spec.egress.flatMap((e: { ports: { port: number }[] }) => e.ports.map((p) => p.port))).toEqual([
      53, 53, 443, 6443,
    ]);
  }, 120_000);
});
