import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoordinationV1Api, CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { captureLogger } from '@taidon/kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skipReason } from '../../../../e2e/k8s/control-plane.js';
import { useControlPlane } from '../../../../e2e/k8s/use-control-plane.js';
import { type CloneStore, createDirectoryCloneStore } from '../../src/runtimes/kubernetes/clones.js';
import { createLeaderElector, type LeaderElector } from '../../src/runtimes/kubernetes/lease.js';
import { createInstanceReconciler, type InstanceReconciler } from '../../src/runtimes/kubernetes/reconciler.js';
import { createKubernetesRuntime, type KubernetesRuntime } from '../../src/runtimes/kubernetes.js';
import { RUNTIME_TOOLS, sandboxNamespace, until } from '../helpers/kubernetes.js';

// Several env-manager replicas: one reconciles (the Lease holder), another
// takes over when it dies, and a reconciler started after a stop finds what
// changed while none ran. Against the real control plane of e2e/k8s, whose
// kwok nodes report Pods Running at once (no PostgreSQL runs in them).

const skip = skipReason(RUNTIME_TOOLS);
if (skip) console.warn(`kubernetes reconciler leader tests skipped: ${skip}`);
const namespace = `em-leader-${process.pid}`;
const LEASE_MS = 3_000;
const READY_MS = 60_000;

describe.skipIf(skip !== undefined)('kubernetes reconciler replicas', () => {
  let release: () => Promise<void>;
  let admin: KubeConfig;
  let account: KubeConfig;
  let cleanup: () => Promise<void>;
  let cloneRoot: string;
  let clones: CloneStore;
  let runtime: KubernetesRuntime;
  let core: CoreV1Api;
  const replicas: InstanceReconciler[] = [];
  const { logger } = captureLogger('env-manager');

  function replica(identity: string): InstanceReconciler {
    const reconciler = createInstanceReconciler({
      kubeConfig: account,
      namespace,
      clones,
      logger: logger.child({ replica: identity }),
      identity,
      leaseDurationMs: LEASE_MS,
      retryPeriodMs: 300,
      resyncMs: 5_000,
    });
    replicas.push(reconciler);
    reconciler.start();
    return reconciler;
  }
  const leaseHolder = async () =>
    (
      await admin
        .makeApiClient(CoordinationV1Api)
        .readNamespacedLease({ name: 'taidon-env-manager-reconciler', namespace })
    ).spec;
  const podsOf = async (name: string) =>
    (await core.listNamespacedPod({ namespace, labelSelector: `taidon.dev/instance=${name}` })).items.filter(
      (p) => !p.metadata?.deletionTimestamp,
    );
  const reporters = async (name: string) =>
    new Set(
      (await core.listNamespacedEvent({ namespace, fieldSelector: `involvedObject.name=${name}` })).items.map(
        (e) => e.reportingInstance,
      ),
    );

  beforeAll(async () => {
    let plane: Awaited<ReturnType<typeof useControlPlane>>['plane'];
    ({ plane, release } = await useControlPlane());
    ({ admin, account, cleanup } = await sandboxNamespace(plane, namespace));
    core = admin.makeApiClient(CoreV1Api);
    cloneRoot = await mkdtemp(join(tmpdir(), 'em-clones-'));
    clones = createDirectoryCloneStore(cloneRoot);
    runtime = createKubernetesRuntime({ kubeConfig: account, namespace });
  }, 300_000);

  afterAll(async () => {
    const leader = replicas.find((r) => r.isLeader()) ?? replica('cleanup');
    await until('a leader for the clean-up', async () => (leader.isLeader() ? true : undefined)).catch(() => undefined);
    if (runtime) for (const i of await runtime.list()) await runtime.delete(i.instanceId, { waitMs: 30_000 });
    for (const r of replicas) await r.stop();
    await cleanup?.();
    if (cloneRoot) await rm(cloneRoot, { recursive: true, force: true });
    await release?.();
  }, 120_000);

  it("elects one leader of two, and the other takes over once the dead leader's lease ran out", async () => {
    const a = replica('replica-a');
    const b = replica('replica-b');
    const leader = await until('one leader', async () =>
      a.isLeader() || b.isLeader() ? (a.isLeader() ? a : b) : undefined,
    );
    const follower = leader === a ? b : a;
    // Several rounds later, still exactly one.
    await new Promise((r) => setTimeout(r, 1_000));
    expect([a.isLeader(), b.isLeader()].filter(Boolean)).toHaveLength(1);
    expect((await leaseHolder())?.holderIdentity).toBe(leader.identity);
    await runtime.start({ instanceId: 'one', layerKey: 'k0.lead' }, READY_MS);
    expect(await reporters('one')).toEqual(new Set([leader.identity]));
    const transitions = (await leaseHolder())?.leaseTransitions ?? 0;

    // The leader dies: it stops renewing without giving the Lease up.
    await leader.stop({ release: false });
    const died = performance.now();
    const last = await leaseHolder();
    expect(last?.holderIdentity).toBe(leader.identity);
    await until('the follower leading', async () => (follower.isLeader() ? true : undefined), 30_000);
    const takeOverMs = performance.now() - died;
    console.log(`take-over after the leader died: ${takeOverMs.toFixed(0)} ms (lease ${LEASE_MS} ms)`);
    expect(takeOverMs).toBeLessThan(LEASE_MS + 10_000);
    const lease = await leaseHolder();
    expect(lease?.holderIdentity).toBe(follower.identity);
    // Not before the dead leader's last renewal had stood unchanged for the lease duration (times read back are
    // the strings the server sent; one clock, this machine's).
    const waitedMs = new Date(String(lease?.acquireTime)).getTime() - new Date(String(last?.renewTime)).getTime();
    expect(waitedMs).toBeGreaterThanOrEqual(LEASE_MS);
    expect(lease?.leaseTransitions).toBe(transitions + 1);

    // The new leader reconciles: a new instance, and a repair of the old one.
    await runtime.start({ instanceId: 'two', layerKey: 'k0.lead' }, READY_MS);
    expect(await reporters('two')).toEqual(new Set([follower.identity]));
    const [pod] = await podsOf('one');
    await core.deleteNamespacedPod({ name: pod?.metadata?.name ?? '', namespace, gracePeriodSeconds: 0 });
    await until('a new Pod for one', async () => {
      const [now] = await podsOf('one');
      return now && now.metadata?.uid !== pod?.metadata?.uid && (await runtime.get('one')).ready ? true : undefined;
    });
  }, 180_000);

  it('a leader whose renewal hangs stops leading at its renew deadline, before another may take the Lease', async () => {
    // The API as the leader sees it: once `hang` is set, every call waits forever (a request lost in a network
    // partition). The other replica's calls are answered.
    const real = admin.makeApiClient(CoordinationV1Api);
    let hang = false;
    const hanging = new Proxy(real, {
      get(target, prop) {
        const value = Reflect.get(target, prop) as unknown;
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) =>
          hang ? new Promise(() => {}) : (value as (...a: unknown[]) => unknown).apply(target, args);
      },
    });
    const events: { who: string; leading: boolean; at: number }[] = [];
    const elector = (who: string, coordination: CoordinationV1Api): LeaderElector =>
      createLeaderElector({
        coordination,
        namespace,
        leaseName: 'hung-renewal',
        identity: who,
        leaseDurationMs: LEASE_MS,
        retryPeriodMs: 300,
        logger,
        onStartedLeading: () => events.push({ who, leading: true, at: performance.now() }),
        onStoppedLeading: () => events.push({ who, leading: false, at: performance.now() }),
      });
    const a = elector('hung-a', hanging);
    a.start();
    await until('a leading', async () => (a.isLeader() ? true : undefined));
    const b = elector('hung-b', real);
    b.start();
    try {
      await new Promise((r) => setTimeout(r, 1_000));
      expect(b.isLeader()).toBe(false);
      hang = true;
      const hungAt = performance.now();
      await until('b leading', async () => (b.isLeader() ? true : undefined), 30_000);
      const demoted = events.find((e) => e.who === 'hung-a' && !e.leading);
      const promoted = events.find((e) => e.who === 'hung-b' && e.leading);
      console.log(
        `hung renewal: a stopped leading ${((demoted?.at ?? 0) - hungAt).toFixed(0)} ms after its API hung, b led after ${((promoted?.at ?? 0) - hungAt).toFixed(0)} ms (lease ${LEASE_MS} ms, renew deadline ${Math.floor((LEASE_MS * 2) / 3)} ms)`,
      );
      // a gave up on its own (its deadline, 2 s after its last renewal, is 2 s plus timer delay from the hang), and
      // before b took over: never two leaders.
      expect(demoted).toBeDefined();
      expect((demoted?.at ?? 0) - hungAt).toBeLessThan(LEASE_MS);
      expect(demoted?.at ?? Number.POSITIVE_INFINITY).toBeLessThan(promoted?.at ?? 0);
      expect(a.isLeader()).toBe(false);
    } finally {
      hang = false;
      await Promise.race([a.stop(), new Promise((r) => setTimeout(r, 100))]);
      await b.stop({ release: true });
    }
  }, 60_000);

  it('a reconciler started after a stop finds what changed meanwhile: a resource with no Pod, a Pod deleted', async () => {
    const current = replicas.find((r) => r.isLeader());
    if (!current) throw new Error('no leader');
    // A clean stop gives the Lease up.
    await current.stop({ release: true });
    await runtime.create({ instanceId: 'three', layerKey: 'k0.restart' });
    const [pod] = await podsOf('one');
    await core.deleteNamespacedPod({ name: pod?.metadata?.name ?? '', namespace, gracePeriodSeconds: 0 });
    await until('the Pod gone', async () => ((await podsOf('one')).length === 0 ? true : undefined));
    await new Promise((r) => setTimeout(r, 1_000));
    // Nobody reconciles: the new resource has no status, the old one no Pod.
    expect((await runtime.get('three')).state).toBeUndefined();
    expect(await podsOf('one')).toEqual([]);

    const restarted = performance.now();
    const c = replica('replica-c');
    await until('replica-c leading', async () => (c.isLeader() ? true : undefined));
    const takeMs = performance.now() - restarted;
    console.log(`lease taken after a release: ${takeMs.toFixed(0)} ms`);
    // Released, it is taken at once, not after the lease duration.
    expect(takeMs).toBeLessThan(LEASE_MS);
    await until('three Ready', async () => ((await runtime.get('three')).ready ? true : undefined), READY_MS);
    await until('one Ready with a Pod', async () =>
      (await runtime.get('one')).ready && (await podsOf('one')).length === 1 ? true : undefined,
    );
  }, 180_000);
});
