import { describe, expect, it } from 'vitest';
import { find, type RenderedObject, renderChart } from './chart.js';
import { skipReason } from './control-plane.js';

// The clones' owner, as the chart decides it: the node agent runs as the
// sandbox's uid (ADR 0049), so what it makes is owned by the uid the sandbox
// Pod runs PostgreSQL as, with no capability to chown; env-manager gives its
// Pods that same uid. A real cluster shows the server starting on such a
// clone (the minikube smoke script); this shows that the three agree.

const helmSkip = skipReason(['helm']);
if (helmSkip) console.warn(`e2e/k8s/chart-agent-uid skipped: ${helmSkip}`);

const uidsOf = (objects: RenderedObject[]) => {
  const agent = find(objects, 'DaemonSet', 'taidon-snapshot-cache').spec.template.spec;
  const envManager = find(objects, 'Deployment', 'taidon-env-manager').spec.template.spec;
  const runAsUser = envManager.containers[0].env.find((e: { name: string }) => e.name === 'SANDBOX_RUN_AS_USER');
  return { agent, sandboxUid: Number(runAsUser?.value) };
};

describe.skipIf(helmSkip !== undefined)('the node agent runs as the sandbox uid', () => {
  it('runs the agent as the uid env-manager gives sandbox Pods, with no fsGroup and no capability', async () => {
    const { agent, sandboxUid } = uidsOf((await renderChart()).objects);
    expect(sandboxUid).toBe(999);
    expect(agent.securityContext).toEqual({
      runAsNonRoot: true,
      runAsUser: 999,
      runAsGroup: 999,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(agent.containers[0].securityContext.capabilities).toEqual({ drop: ['ALL'] });
    expect(agent.containers[0].securityContext.allowPrivilegeEscalation).toBe(false);
  }, 120_000);

  it('follows the sandbox uid when a values file changes it', async () => {
    const { agent, sandboxUid } = uidsOf(
      (
        await renderChart([
          '--set',
          'sandbox.podSecurityContext.runAsUser=70',
          '--set',
          'sandbox.podSecurityContext.runAsGroup=70',
        ])
      ).objects,
    );
    expect(sandboxUid).toBe(70);
    expect(agent.securityContext).toMatchObject({ runAsUser: 70, runAsGroup: 70 });
  }, 120_000);
});
