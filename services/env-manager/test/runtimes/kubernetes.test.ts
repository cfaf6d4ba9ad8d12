import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { captureLogger } from '@taidon/kit/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ControlPlaneInfo, skipReason, toolPath } from '../../../../e2e/k8s/control-plane.js';
import { useControlPlane } from '../../../../e2e/k8s/use-control-plane.js';
import { NamespaceQuotaError } from '../../src/errors.js';
import { type CloneStore, createDirectoryCloneStore } from '../../src/runtimes/kubernetes/clones.js';
import type { InstanceReconciler } from '../../src/runtimes/kubernetes/reconciler.js';
import { CLONE_FINALIZER, coordinates, type TaidonInstance } from '../../src/runtimes/kubernetes/types.js';
import type { KubernetesRuntime } from '../../src/runtimes/kubernetes.js';
import {
  ENV_MANAGER_ACCOUNT,
  RUNTIME_TOOLS,
  sandboxNamespace,
  startLeadingReconciler,
  until,
} from '../helpers/kubernetes.js';

// The kubernetes runtime and its reconciler against a real control plane
// (e2e/k8s): kwok nodes report their Pods Running and Ready at once, and no
// PostgreSQL runs in them: what is proven is what the API shows (the objects,
// their security settings, the status, the finalizer, the repairs, RBAC and
// quota), not a server answering. The reconciler runs as env-manager's
// service account, bound by the chart's own RBAC (helm template).

const execFileP = promisify(execFile);
const skip = skipReason(RUNTIME_TOOLS);
if (skip) console.warn(`kubernetes runtime tests skipped: ${skip}`);
const namespace = `em-runtime-${process.pid}`;
const READY_MS = 60_000;

describe.skipIf(skip !== undefined)('kubernetes runtime', () => {
  let plane: ControlPlaneInfo;
  let release: () => Promise<void>;
  let admin: KubeConfig;
  let account: KubeConfig;
  let cleanup: () => Promise<void>;
  let cloneRoot: string;
  let clones: CloneStore;
  let onCloneCreate: ((request: { uid: string; node: string }) => Promise<void>) | undefined;
  let reconciler: InstanceReconciler;
  let runtime: KubernetesRuntime;
  let core: CoreV1Api;
  let custom: CustomObjectsApi;
  const { logger, lines } = captureLogger('env-manager');

  const podsOf = async (name: string) =>
    (await core.listNamespacedPod({ namespace, labelSelector: `taidon.dev/instance=${name}` })).items.filter(
      (p) => !p.metadata?.deletionTimestamp,
    );
  const instance = async (name: string) =>
    (await custom.getNamespacedCustomObject({ ...coordinates(namespace), name })) as TaidonInstance;

  beforeAll(async () => {
    ({ plane, release } = await useControlPlane());
    ({ admin, account, cleanup } = await sandboxNamespace(plane, namespace));
    core = admin.makeApiClient(CoreV1Api);
    custom = admin.makeApiClient(CustomObjectsApi);
    cloneRoot = await mkdtemp(join(tmpdir(), 'em-clones-'));
    const directory = createDirectoryCloneStore(cloneRoot);
    // The directory store, with a hook a test sets to act while a clone is being made.
    clones = {
      ...directory,
      async create(request) {
        await onCloneCreate?.(request);
        return directory.create(request);
      },
    };
    ({ reconciler, runtime } = await startLeadingReconciler({ account, namespace, clones, logger }));
  }, 300_000);

  afterAll(async () => {
    if (runtime) for (const i of await runtime.list()) await runtime.delete(i.instanceId, { waitMs: 30_000 });
    await reconciler?.stop();
    await cleanup?.();
    if (cloneRoot) await rm(cloneRoot, { recursive: true, force: true });
    await release?.();
  }, 120_000);

  it('starts an instance that becomes Ready on a kwok node: conditions, observedGeneration, a pinned local volume, a restricted Pod', async () => {
    const view = await runtime.start(
      { instanceId: 'first', layerKey: 'k0.abc', resources: { requests: { cpu: '50m', memory: '64Mi' } } },
      READY_MS,
    );
    console.log(
      `create → Ready (resource, clone, PV, PVC, Pod scheduled, kwok Running): ${view.readyMs?.toFixed(0)} ms`,
    );
    expect(view).toMatchObject({ state: 'Running', ready: true, reason: 'PodReady' });
    expect(plane.nodes).toContain(view.node);
    expect(view.endpoint?.port).toBe(5432);
    expect(view.observedGeneration).toBe(view.generation);
    const resource = await instance('first');
    expect(resource.metadata.finalizers).toContain(CLONE_FINALIZER);
    const byType = Object.fromEntries((resource.status?.conditions ?? []).map((c) => [c.type, c]));
    expect(byType.Ready).toMatchObject({ status: 'True', reason: 'PodReady', observedGeneration: view.generation });
    expect(byType.Progressing).toMatchObject({ status: 'False' });
    expect(byType.Degraded).toMatchObject({ status: 'False', reason: 'AsExpected' });
    // The clone is on disk where the store put it, and the volume points at it, pinned to its node.
    const clonePath = resource.status?.clonePath ?? '';
    expect(clonePath.startsWith(join(cloneRoot, view.node ?? ''))).toBe(true);
    expect(await readFile(join(clonePath, 'TAIDON_CLONE'), 'utf8')).toBe('k0.abc\n');
    const pv = await core.readPersistentVolume({ name: resource.status?.volume ?? '' });
    expect(pv.spec?.local?.path).toBe(clonePath);
    expect(pv.spec?.hostPath).toBeUndefined();
    expect(pv.spec?.nodeAffinity?.required?.nodeSelectorTerms?.[0]?.matchExpressions?.[0]).toEqual({
      key: 'kubernetes.io/hostname',
      operator: 'In',
      values: [view.node],
    });
    expect(pv.status?.phase).toBe('Bound');
    const claim = await core.readNamespacedPersistentVolumeClaim({ name: 'first-clone', namespace });
    expect(claim.status?.phase).toBe('Bound');
    expect(claim.spec?.volumeName).toBe(pv.metadata?.name);
    const [pod] = await podsOf('first');
    expect(pod?.spec?.nodeName).toBe(view.node);
    expect(pod?.status?.podIP).toBe(view.endpoint?.host);
    expect(pod?.spec?.automountServiceAccountToken).toBe(false);
    expect(pod?.spec?.securityContext).toMatchObject({
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    // PostgreSQL refuses a group-writable data directory, which fsGroup would make of the clone.
    expect(pod?.spec?.securityContext?.fsGroup).toBeUndefined();
    // The clone's node is a tainted fast-disk node: the sandbox tolerates that taint, as the node agent does.
    expect(pod?.spec?.tolerations).toContainEqual({
      key: 'taidon.dev/fast-disk',
      operator: 'Exists',
      effect: 'NoSchedule',
    });
    const container = pod?.spec?.containers[0];
    // PostgreSQL itself, not the image's entrypoint (which would look for its own PGDATA on a read-only root).
    expect(container?.command?.slice(0, 3)).toEqual(['postgres', '-D', '/var/lib/postgresql/data']);
    expect(container?.args).toBeUndefined();
    expect(container?.securityContext).toMatchObject({
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
    });
    expect(container?.resources).toEqual({
      requests: { cpu: '50m', memory: '64Mi' },
      limits: { cpu: '1', memory: '256Mi' },
    });
    const writable = pod?.spec?.volumes?.filter((v) => v.emptyDir).map((v) => v.name);
    expect(writable).toEqual(['run', 'tmp']);
    expect(pod?.spec?.volumes?.find((v) => v.name === 'data')?.persistentVolumeClaim?.claimName).toBe('first-clone');
    // An operator sees what the platform sees.
    const events = await core.listNamespacedEvent({ namespace, fieldSelector: 'involvedObject.name=first' });
    expect(events.items.map((e) => e.reason)).toContain('PodReady');
  }, 120_000);

  it('shows state, node, pooled and age in `kubectl get taidoninstances`', async () => {
    const view = await runtime.get('first');
    const { stdout } = await execFileP(
      toolPath('kubectl'),
      ['--kubeconfig', plane.kubeconfig, '-n', namespace, 'get', 'taidoninstances'],
      { timeout: 30_000 },
    );
    const [header, ...rows] = stdout.trim().split('\n');
    expect(header?.split(/\s+/)).toEqual(['NAME', 'STATE', 'READY', 'REASON', 'NODE', 'POOLED', 'AGE']);
    const line = rows.find((r) => r.startsWith('first ')) ?? '';
    const row = line.split(/\s+/);
    // Not a warm pool's (ADR 0055): no taidon.dev/pooled label, so the Pooled column is blank.
    expect(row.slice(0, 5)).toEqual(['first', 'Running', 'True', 'PodReady', view.node]);
    const pooledAt = header?.indexOf('POOLED') ?? -1;
    expect(line.slice(pooledAt, (header?.indexOf('AGE') ?? 0) - 1).trim()).toBe('');
    expect(row[5]).toMatch(/^\d+s$/);
  }, 120_000);

  it('suspends (the Pod goes, the clone and its claim stay) and resumes on the same node', async () => {
    const before = await runtime.get('first');
    const suspended = await runtime.suspend('first', READY_MS);
    expect(suspended).toMatchObject({ state: 'Suspended', ready: false, reason: 'Suspended' });
    expect(suspended.observedGeneration).toBe(before.generation + 1);
    expect(await podsOf('first')).toEqual([]);
    const resource = await instance('first');
    expect(await readFile(join(resource.status?.clonePath ?? '', 'TAIDON_CLONE'), 'utf8')).toBe('k0.abc\n');
    expect((await core.readNamespacedPersistentVolumeClaim({ name: 'first-clone', namespace })).status?.phase).toBe(
      'Bound',
    );
    const resumed = await runtime.resume('first', READY_MS);
    expect(resumed).toMatchObject({ state: 'Running', ready: true, node: before.node });
    expect((await podsOf('first'))[0]?.spec?.nodeName).toBe(before.node);
  }, 120_000);

  it('repairs drift: a Pod deleted behind its back comes back; a Pod, a volume and a clone with no resource are removed', async () => {
    const [pod] = await podsOf('first');
    await core.deleteNamespacedPod({ name: pod?.metadata?.name ?? '', namespace, gracePeriodSeconds: 0 });
    const replaced = await until('a new Pod Running, and the status saying so', async () => {
      const [now] = await podsOf('first');
      if (!now || now.metadata?.uid === pod?.metadata?.uid || now.status?.phase !== 'Running') return undefined;
      const ready = (await instance('first')).status?.conditions?.find((c) => c.type === 'Ready');
      return ready?.status === 'True' && ready.message.includes(now.metadata?.name ?? '?') ? now : undefined;
    });
    expect(replaced.spec?.nodeName).toBe(pod?.spec?.nodeName);
    // A Pod labelled as ours for an instance that does not exist (left by a crash between two writes).
    const orphan = structuredClone(pod);
    if (!orphan?.metadata || !orphan.spec) throw new Error('no pod to copy');
    orphan.metadata = {
      name: 'orphan-0',
      labels: { ...orphan.metadata.labels, 'taidon.dev/instance': 'orphan', 'taidon.dev/instance-uid': 'none' },
    };
    orphan.spec.nodeName = undefined;
    orphan.spec.volumes = orphan.spec.volumes?.filter((v) => v.emptyDir);
    orphan.spec.containers = orphan.spec.containers.map((c) => ({
      ...c,
      volumeMounts: c.volumeMounts?.filter((m) => m.name !== 'data'),
    }));
    await core.createNamespacedPod({ namespace, body: { metadata: orphan.metadata, spec: orphan.spec } });
    await until('the orphan Pod removed', async () => ((await podsOf('orphan')).length === 0 ? true : undefined));
    expect(lines().some((l) => l.includes('removed a Pod with no instance') && l.includes('orphan-0'))).toBe(true);
    // A volume and a clone left for an instance that is gone are found by the resync (every 5 s here).
    const node = plane.nodes[0] ?? '';
    const ghost = await clones.create({ uid: 'ghost-uid', layerKey: 'k0.ghost', node });
    await core.createPersistentVolume({
      body: {
        metadata: {
          name: `taidon-${namespace}-ghost`,
          labels: {
            'app.kubernetes.io/managed-by': 'taidon-env-manager',
            'taidon.dev/instance': 'ghost',
            'taidon.dev/instance-uid': 'ghost-uid',
            'taidon.dev/namespace': namespace,
          },
        },
        spec: {
          capacity: { storage: '1Gi' },
          accessModes: ['ReadWriteOncePod'],
          storageClassName: 'taidon-clone',
          local: { path: ghost.path },
          nodeAffinity: {
            required: {
              nodeSelectorTerms: [
                { matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [node] }] },
              ],
            },
          },
        },
      },
    });
    await until(
      'the orphan volume and clone removed',
      async () => {
        const pvs = await core.listPersistentVolume({ labelSelector: 'taidon.dev/instance-uid=ghost-uid' });
        return pvs.items.length === 0 && !(await clones.list()).includes('ghost-uid') ? true : undefined;
      },
      30_000,
    );
    await expect(readdir(ghost.path)).rejects.toMatchObject({ code: 'ENOENT' });
  }, 120_000);

  it('deletes through the finalizer: the Pod goes, then the clone is freed, then the resource', async () => {
    const resource = await instance('first');
    const clonePath = resource.status?.clonePath ?? '';
    const uid = resource.metadata.uid ?? '';
    expect(await clones.list()).toContain(uid);
    expect(await runtime.delete('first', { waitMs: READY_MS })).toBe(true);
    expect(await podsOf('first')).toEqual([]);
    await expect(readdir(clonePath)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await clones.list()).not.toContain(uid);
    await until('the PV and PVC gone', async () => {
      const pvs = await core.listPersistentVolume({ labelSelector: `taidon.dev/instance-uid=${uid}` });
      const pvcs = await core.listNamespacedPersistentVolumeClaim({
        namespace,
        labelSelector: `taidon.dev/instance-uid=${uid}`,
      });
      return pvs.items.length + pvcs.items.length === 0 ? true : undefined;
    });
  }, 120_000);

  it('deletes a suspended instance through the finalizer, freeing its clone', async () => {
    await runtime.start({ instanceId: 'sleeper', layerKey: 'k0.sleep' }, READY_MS);
    await runtime.suspend('sleeper', READY_MS);
    const resource = await instance('sleeper');
    expect(await clones.list()).toContain(resource.metadata.uid);
    expect(await runtime.delete('sleeper', { waitMs: READY_MS })).toBe(true);
    expect(await clones.list()).not.toContain(resource.metadata.uid);
    await expect(readdir(resource.status?.clonePath ?? '')).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await podsOf('sleeper')).toEqual([]);
  }, 120_000);

  it('answers ENV_MANAGER_START_FAILED when not Ready in time, and leaves no half-started instance', async () => {
    await expect(runtime.start({ instanceId: 'hasty', layerKey: 'k0.hasty' }, 1)).rejects.toMatchObject({
      code: 'ENV_MANAGER_START_FAILED',
    });
    await until('the instance and its Pod gone', async () =>
      (await runtime.list()).some((i) => i.instanceId === 'hasty') || (await podsOf('hasty')).length > 0
        ? undefined
        : true,
    );
  }, 120_000);

  it('deletes an instance whose caller gave up before it was Ready (ENV_MANAGER_CREATION_ABANDONED): its clone freed, no Pod left', async () => {
    // As the local runtime withdraws a creation whose caller went away, a create given up while its clone is
    // being made ends at once, and what it asked for goes: the resource, through its finalizer the clone.
    let entered: (uid: string) => void = () => undefined;
    const cloning = new Promise<string>((resolve) => {
      entered = resolve;
    });
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    onCloneCreate = async ({ uid }) => {
      entered(uid);
      await held;
    };
    const gaveUp = new AbortController();
    const start = runtime.start({ instanceId: 'abandoned', layerKey: 'k0.abandoned' }, READY_MS, gaveUp.signal);
    start.catch(() => undefined);
    let uid = '';
    try {
      uid = await cloning;
      gaveUp.abort();
      const outcome = await Promise.race([
        start.then(
          () => 'Ready, for nobody',
          (error: unknown) => error,
        ),
        new Promise((resolve) => setTimeout(() => resolve('still waiting 10 s after the caller went'), 10_000)),
      ]);
      expect(outcome).toMatchObject({ code: 'ENV_MANAGER_CREATION_ABANDONED' });
    } finally {
      onCloneCreate = undefined;
      release();
    }
    await until('the abandoned instance gone, its clone freed', async () =>
      (await runtime.list()).some((i) => i.instanceId === 'abandoned') || (await clones.list()).includes(uid)
        ? undefined
        : true,
    );
    expect(await podsOf('abandoned')).toEqual([]);
    const pvs = await core.listPersistentVolume({ labelSelector: `taidon.dev/instance-uid=${uid}` });
    const pvcs = await core.listNamespacedPersistentVolumeClaim({
      namespace,
      labelSelector: `taidon.dev/instance-uid=${uid}`,
    });
    expect(pvs.items.length + pvcs.items.length).toBe(0);
  }, 120_000);

  it('keeps the placement when a touch races the status write: the node is recorded before the clone is made', async () => {
    // While the clone is made, a touch changes the resource: the status write that follows loses (409) and the
    // next round must clone on the node already recorded, not place again (which would pick the other, emptier
    // node: this one now holds a clone).
    const seen: { uid: string; node: string; recorded: string | undefined }[] = [];
    onCloneCreate = async (request) => {
      const before = await instance('raced');
      seen.push({ ...request, recorded: before.status?.node });
      if (seen.length === 1) await runtime.touch('raced');
    };
    try {
      await runtime.create({ instanceId: 'raced', layerKey: 'k0.raced' });
      const ready = await until('raced Ready', async () => {
        const view = await runtime.get('raced');
        return view.ready ? view : undefined;
      });
      expect(seen.length).toBeGreaterThanOrEqual(2);
      // Every clone request was for the node the status already named, and the Pod runs there.
      for (const s of seen) expect(s).toMatchObject({ node: seen[0]?.node, recorded: seen[0]?.node });
      expect(ready.node).toBe(seen[0]?.node);
      const resource = await instance('raced');
      expect(resource.status?.clonePath).toBe(join(cloneRoot, seen[0]?.node ?? '', resource.metadata.uid ?? ''));
      const [pod] = await podsOf('raced');
      expect(pod?.spec?.nodeName).toBe(seen[0]?.node);
    } finally {
      onCloneCreate = undefined;
      await runtime.delete('raced', { waitMs: 30_000 });
    }
  }, 120_000);

  it('marks an instance whose Pod the API server refuses (not for quota) Degraded PodRefused, and start fails at once', async () => {
    // A request above its limit: the Pod is invalid (422), whatever the quota.
    const resources = { requests: { cpu: '2' }, limits: { cpu: '1' } };
    await runtime.create({ instanceId: 'refused', layerKey: 'k0.refused', resources });
    const degraded = await until('Degraded PodRefused', async () => {
      const i = await instance('refused');
      const condition = i.status?.conditions?.find((c) => c.type === 'Degraded');
      return condition?.status === 'True' ? { i, condition } : undefined;
    });
    expect(degraded.condition).toMatchObject({ reason: 'PodRefused' });
    expect(degraded.condition.message).toMatch(/Invalid|must be less than or equal to cpu limit/);
    expect(degraded.i.status).toMatchObject({ state: 'Pending' });
    expect(degraded.i.status?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({
      status: 'False',
      reason: 'PodRefused',
    });
    expect(await podsOf('refused')).toEqual([]);
    await runtime.delete('refused', { waitMs: 30_000 });

    const started = performance.now();
    await expect(
      runtime.start({ instanceId: 'refused-2', layerKey: 'k0.refused', resources }, READY_MS),
    ).rejects.toMatchObject({ code: 'ENV_MANAGER_START_FAILED', reason: expect.stringMatching(/^Pod refused: /) });
    // Refused as soon as the reconciler saw it, not at the start timeout.
    expect(performance.now() - started).toBeLessThan(READY_MS / 2);
  }, 120_000);

  it('deletes an instance unused for its TTL, freeing its clone', async () => {
    await runtime.start({ instanceId: 'short', layerKey: 'k0.ttl', ttlSeconds: 3 }, READY_MS);
    const uid = (await instance('short')).metadata.uid ?? '';
    await until(
      'the instance gone',
      async () => ((await runtime.list()).some((i) => i.instanceId === 'short') ? undefined : true),
      30_000,
    );
    expect(await clones.list()).not.toContain(uid);
  }, 120_000);

  it('refuses, by the CRD, a name too long for a label and a change of layer key (422)', async () => {
    await expect(runtime.create({ instanceId: 'x'.repeat(64), layerKey: 'k0.long' })).rejects.toMatchObject({
      code: 422,
    });
    await runtime.create({ instanceId: 'fixed', layerKey: 'k0.one' });
    const body = await instance('fixed');
    body.spec.layerKey = 'k0.two';
    const error = await custom.replaceNamespacedCustomObject({ ...coordinates(namespace), name: 'fixed', body }).then(
      () => undefined,
      (e: { code?: number; body?: string }) => e,
    );
    expect(error?.code).toBe(422);
    expect(error?.body).toContain('layerKey is immutable');
    expect(await runtime.delete('fixed', { waitMs: READY_MS })).toBe(true);
  }, 120_000);

  it('acts as a service account that is refused what it may not do', async () => {
    const asAccount = account.makeApiClient(CoreV1Api);
    await expect(asAccount.listNamespacedSecret({ namespace })).rejects.toMatchObject({ code: 403 });
    await expect(asAccount.readNamespacedSecret({ name: 'any', namespace })).rejects.toMatchObject({ code: 403 });
    await expect(asAccount.listNamespacedPod({ namespace: 'default' })).rejects.toMatchObject({ code: 403 });
    await expect(asAccount.deleteNode({ name: plane.nodes[0] ?? '' })).rejects.toMatchObject({ code: 403 });
    await expect(
      asAccount.createNamespacedServiceAccountToken({
        name: ENV_MANAGER_ACCOUNT,
        namespace,
        body: { spec: { audiences: [] } },
      }),
    ).rejects.toMatchObject({ code: 403 });
    // What it needs, it has (the reconciler above ran as it).
    expect((await asAccount.listNamespacedPod({ namespace })).items).toBeDefined();
  }, 120_000);

  it('refuses an instance past the namespace ResourceQuota with ENV_MANAGER_NAMESPACE_QUOTA_EXCEEDED, leaving nothing behind', async () => {
    await runtime.start({ instanceId: 'fits', layerKey: 'k0.quota' }, READY_MS);
    // Room for the Pods already there, none more.
    await core.createNamespacedResourceQuota({
      namespace,
      body: { metadata: { name: 'sandboxes' }, spec: { hard: { pods: '1' } } },
    });
    await until('the quota counting', async () => {
      const quota = await core.readNamespacedResourceQuota({ name: 'sandboxes', namespace });
      return quota.status?.used?.pods === '1' ? true : undefined;
    });
    const error = await runtime.start({ instanceId: 'past-pods', layerKey: 'k0.quota' }, READY_MS).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(NamespaceQuotaError);
    expect((error as NamespaceQuotaError).code).toBe('ENV_MANAGER_NAMESPACE_QUOTA_EXCEEDED');
    expect((error as NamespaceQuotaError).statusCode).toBe(503);
    expect((error as NamespaceQuotaError).quota).toMatch(/exceeded quota: sandboxes/);
    await until('the refused instance gone', async () =>
      (await runtime.list()).some((i) => i.instanceId === 'past-pods') ? undefined : true,
    );
    // A quota on the resources themselves refuses at once, before any Pod.
    await core.replaceNamespacedResourceQuota({
      name: 'sandboxes',
      namespace,
      body: { metadata: { name: 'sandboxes' }, spec: { hard: { 'count/taidoninstances.taidon.dev': '1' } } },
    });
    // The quota controller finds a new CRD by discovery (every 30 s) and computes a quota's usage when the quota
    // changes its hard limits or at its full resync (5 min): a quota written before it knew the CRD gets a second,
    // idle limit on and off until it is counted.
    let touches = 0;
    await until(
      'the quota counting instances',
      async () => {
        const quota = await core.readNamespacedResourceQuota({ name: 'sandboxes', namespace });
        if (quota.status?.used?.['count/taidoninstances.taidon.dev'] === '1') return true;
        const hard: Record<string, string> = { 'count/taidoninstances.taidon.dev': '1' };
        if (++touches % 2 === 1) hard['count/configmaps'] = '1000';
        await core.replaceNamespacedResourceQuota({ name: 'sandboxes', namespace, body: { ...quota, spec: { hard } } });
        await new Promise((r) => setTimeout(r, 1000));
        return undefined;
      },
      90_000,
    );
    await expect(runtime.create({ instanceId: 'past-count', layerKey: 'k0.quota' })).rejects.toMatchObject({
      code: 'ENV_MANAGER_NAMESPACE_QUOTA_EXCEEDED',
    });
    await core.deleteNamespacedResourceQuota({ name: 'sandboxes', namespace });
    expect(await runtime.delete('fits', { waitMs: READY_MS })).toBe(true);
  }, 240_000);
});
