import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { type AddressInfo, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { SERVICE_TOKEN_HEADER } from '@taidon/kit';
import { captureLogger, createTestDatabase, type TestDatabase } from '@taidon/kit/testing';
import { loadSnapshotCacheConfig, type StartedSnapshotCache, startSnapshotCache } from '@taidon/snapshot-cache';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ControlPlaneInfo, skipReason } from '../../../../e2e/k8s/control-plane.js';
import { useControlPlane } from '../../../../e2e/k8s/use-control-plane.js';
import { loadEnvManagerConfig } from '../../src/config.js';
import { createAgentClient, placeOnAgents, podAgents } from '../../src/runtimes/kubernetes/agents.js';
import { coordinates, type TaidonInstance } from '../../src/runtimes/kubernetes/types.js';
import { type StartedEnvManager, startEnvManager } from '../../src/start.js';
import {
  accountConfig,
  applyRbac,
  btrfsReason,
  chartRbac,
  RUNTIME_TOOLS,
  sandboxNamespace,
  until,
} from '../helpers/kubernetes.js';

// env-manager started as a cluster runs it (ENV_MANAGER_RUNTIME=kubernetes,
// its one start function) against the real control plane of e2e/k8s, with two
// real node agents: snapshot-cache started by its own start function, each on
// a btrfs image of its own, sharing one database (each its node's schema, as
// in the chart), named to env-manager by
// the static map as the agents of the two kwok nodes. What is proven is the
// placement (the node whose agent holds the deepest layer of the chain, else
// the least loaded), the clone made by that agent (a btrfs subvolume under its
// root) behind a PV pinned to that node, a Pod scheduled there that kwok makes
// Running, and the finalizer freeing the clone on that agent. No PostgreSQL
// runs in a kwok Pod: a server answering there is the minikube smoke script's.

const execFileP = promisify(execFile);
const TOKEN = 'test-service-token';

const skip = skipReason(RUNTIME_TOOLS) ?? (await btrfsReason());
if (skip) console.warn(`kubernetes placement tests skipped: ${skip}`);
const namespace = `em-placement-${process.pid}`;

const key = () => randomBytes(32).toString('hex');
const ORPHAN_GRACE_SECONDS = 5;

interface Agent {
  node: string;
  started: StartedSnapshotCache;
  dir: string;
  url: string;
  root: string;
}

describe.skipIf(skip !== undefined)('env-manager on a cluster: placement on the node agents', () => {
  let plane: ControlPlaneInfo;
  let release: () => Promise<void>;
  let admin: KubeConfig;
  let account: KubeConfig;
  let cleanup: () => Promise<void>;
  let core: CoreV1Api;
  let custom: CustomObjectsApi;
  let work: string;
  let emDb: TestDatabase;
  let agentsDb: TestDatabase;
  let envManager: StartedEnvManager;
  const agents: Agent[] = [];
  const { logger, lines } = captureLogger('env-manager');
  const K1 = key();
  const K2 = key();
  const K3 = key();

  const call = async (agent: Agent, method: string, path: string, body?: unknown) => {
    const res = await fetch(`${agent.url}${path}`, {
      method,
      headers: { [SERVICE_TOKEN_HEADER]: TOKEN, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : undefined };
  };

  /** A layer of `layerKey` on the agent: a volume with a file in it, snapshotted, the volume then deleted. */
  const layerOn = async (agent: Agent, layerKey: string, marker: string) => {
    const volume = await call(agent, 'POST', '/volumes', {});
    expect(volume.status).toBe(201);
    await writeFile(join(volume.json.path, 'PG_VERSION'), '18\n');
    await writeFile(join(volume.json.path, 'MARKER'), marker);
    const layer = await call(agent, 'POST', '/layers', {
      key: layerKey,
      parentKey: null,
      volumeId: volume.json.id,
      stepCount: 1,
      buildMs: 5,
    });
    expect(layer.status).toBe(201);
    expect((await call(agent, 'DELETE', `/volumes/${volume.json.id}`)).status).toBe(204);
  };

  const resource = async (name: string) =>
    (await custom.getNamespacedCustomObject({ ...coordinates(namespace), name })) as TaidonInstance;
  const inject = (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: object) =>
    envManager.app.inject({ method, url, headers: { [SERVICE_TOKEN_HEADER]: TOKEN }, ...(payload ? { payload } : {}) });

  beforeAll(async () => {
    ({ plane, release } = await useControlPlane());
    ({ admin, account, cleanup } = await sandboxNamespace(plane, namespace));
    core = admin.makeApiClient(CoreV1Api);
    custom = admin.makeApiClient(CustomObjectsApi);
    work = await mkdtemp(join(tmpdir(), 'em-placement-'));
    // One database for both agents, as the chart gives them: each keeps its records in its node's schema.
    agentsDb = await createTestDatabase('sc_nodes');
    for (const [i, node] of plane.nodes.slice(0, 2).entries()) {
      const dir = join(work, `agent-${i}`);
      const root = join(dir, 'root');
      const started = await startSnapshotCache(
        loadSnapshotCacheConfig({
          SNAPSHOT_CACHE_DATABASE_URL: agentsDb.url,
          SNAPSHOT_CACHE_ROOT: root,
          SNAPSHOT_CACHE_DRIVER: 'btrfs',
          SNAPSHOT_CACHE_BTRFS_IMAGE: join(dir, 'root.img'),
          SNAPSHOT_CACHE_BTRFS_IMAGE_BYTES: String(256 * 1024 ** 2),
          SNAPSHOT_CACHE_SPARE_CLONES: '0',
          SNAPSHOT_CACHE_NODE_NAME: node,
          SERVICE_TOKEN: TOKEN,
        }),
        { logger: captureLogger(`snapshot-cache-${i}`).logger },
      );
      const address = await started.app.listen({ host: '127.0.0.1', port: 0 });
      agents.push({ node, started, dir, url: address, root });
    }
    const [a, b] = agents as [Agent, Agent];
    // The chain K1 → K2 → K3: node A holds K1, node B holds K2 (deeper), nobody holds K3.
    await layerOn(a, K1, 'k1 on A');
    await layerOn(b, K2, 'k2 on B');
    const kubeconfig = join(work, 'env-manager.kubeconfig');
    await writeFile(kubeconfig, account.exportConfig(), { mode: 0o600 });
    emDb = await createTestDatabase('em_placement');
    const config = loadEnvManagerConfig({
      ENV_MANAGER_RUNTIME: 'kubernetes',
      ENV_MANAGER_DATABASE_URL: emDb.url,
      SERVICE_TOKEN: TOKEN,
      SANDBOX_ADMIN_PASSWORD: 'sandbox-admin',
      KUBECONFIG: kubeconfig,
      SANDBOX_NAMESPACE: namespace,
      SNAPSHOT_CACHE_AGENTS: agents.map((g) => `${g.node}=${g.url}`).join(','),
      SANDBOX_LEASE_DURATION_MS: '5000',
      SANDBOX_CPU_REQUEST: '50m',
      SANDBOX_MEMORY_REQUEST: '64Mi',
      INSTANCE_START_TIMEOUT_MS: '90000',
      POD_NAME: 'env-manager-test-0',
      // The orphan sweep at a test's pace: every 2 s, clones past 5 s.
      SANDBOX_RESYNC_INTERVAL_MS: '2000',
      SANDBOX_ORPHAN_CLONE_GRACE_SECONDS: String(ORPHAN_GRACE_SECONDS),
      // No PostgreSQL behind these Pods (the layers are marker files): a clone's template database is not waited for.
      SANDBOX_TEMPLATE_WAIT_MS: '0',
    });
    envManager = await startEnvManager(config, { logger });
    await envManager.app.ready();
  }, 300_000);

  afterAll(async () => {
    await envManager?.close();
    await cleanup?.();
    for (const agent of agents) await agent.started.close().catch(() => undefined);
    await agentsDb?.drop().catch(() => undefined);
    await emDb?.drop().catch(() => undefined);
    if (work) await rm(work, { recursive: true, force: true });
    await release?.();
  }, 180_000);

  it('places an instance on the node whose agent holds the deepest layer of its chain, clones there, and frees the clone on delete', async () => {
    const [, b] = agents as [Agent, Agent];
    const created = await inject('POST', '/instances', {
      ownerId: 'learner-1',
      ownerRole: 'learner',
      sessionId: 'session-1',
      layerKey: K3,
      layerKeys: [K1, K2, K3],
    });
    expect(
      created.statusCode,
      `${created.body}\n${lines()
        .filter((l) => l.includes('"level":50'))
        .join('\n')}`,
    ).toBe(201);
    const info = created.json();
    console.log(`create → Ready on a kwok node through env-manager's route: ${info.readyMs} ms`);
    expect(info).toMatchObject({ state: 'Running', port: 5432, layerKey: K2, currentKey: K2, source: 'clone' });
    expect(lines().some((l) => l.includes('"instance placed"') && l.includes(b.node))).toBe(true);

    // The resource carries the node chosen (written before any clone), and the reconciler made the clone there.
    const made = await resource(info.id);
    expect(made.spec).toMatchObject({ layerKey: K2, node: b.node });
    expect(made.metadata.annotations).toMatchObject({ 'taidon.dev/owner-id': 'learner-1' });
    expect(made.status?.node).toBe(b.node);
    const uid = made.metadata.uid ?? '';
    const clonePath = made.status?.clonePath ?? '';
    expect(clonePath).toBe(join(b.root, 'volumes', uid));
    // The clone is the agent's copy of K2: a btrfs subvolume (inode 256) holding the layer's files.
    expect(await readFile(join(clonePath, 'MARKER'), 'utf8')).toBe('k2 on B');
    expect((await stat(clonePath)).ino).toBe(256);
    expect((await call(b, 'GET', `/layers/${K2}`)).json).toMatchObject({ liveClones: 1, hits: 1 });

    // Its volume is pinned to B, its claim bound, and its Pod scheduled on B, Running (kwok).
    const pv = await core.readPersistentVolume({ name: made.status?.volume ?? '' });
    expect(pv.spec?.local?.path).toBe(clonePath);
    const hostname = (await core.readNode({ name: b.node })).metadata?.labels?.['kubernetes.io/hostname'];
    expect(pv.spec?.nodeAffinity?.required?.nodeSelectorTerms?.[0]?.matchExpressions?.[0]?.values).toEqual([hostname]);
    const pods = (await core.listNamespacedPod({ namespace, labelSelector: `taidon.dev/instance=${info.id}` })).items;
    expect(pods).toHaveLength(1);
    expect(pods[0]?.spec?.nodeName).toBe(b.node);
    expect(pods[0]?.status?.phase).toBe('Running');
    expect(info.host).toBe(pods[0]?.status?.podIP);

    // The instance route reports it as the platform shows it.
    const read = await inject('GET', `/instances/${info.id}`);
    expect(read.statusCode).toBe(200);
    expect(read.json()).toMatchObject({
      id: info.id,
      state: 'Running',
      ownerId: 'learner-1',
      sessionId: 'session-1',
      host: info.host,
      port: 5432,
      layerKey: K2,
    });
    const listed = await inject('GET', '/instances?ownerId=learner-1');
    expect(listed.json().map((i: { id: string }) => i.id)).toEqual([info.id]);
    // The gauge counts the TaidonInstances, the record on a cluster.
    const metrics = await envManager.app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toMatch(/^taidon_instances\{state="Running",service="env-manager"\} 1$/m);

    // Delete: the finalizer frees the clone on B (the subvolume is gone from its disk), then the resource goes.
    const deleted = await inject('DELETE', `/instances/${info.id}`);
    expect(deleted.statusCode, deleted.body).toBe(200);
    expect(deleted.json()).toMatchObject({ id: info.id, state: 'Deleted' });
    await expect(stat(clonePath)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await readdir(join(b.root, 'volumes'))).toEqual([]);
    expect((await call(b, 'GET', `/layers/${K2}`)).json).toMatchObject({ liveClones: 0 });
    expect((await inject('GET', `/instances/${info.id}`)).json()).toMatchObject({
      code: 'ENV_MANAGER_INSTANCE_NOT_FOUND',
    });
    await until('the PV gone', async () =>
      (await core.listPersistentVolume({ labelSelector: `taidon.dev/instance=${info.id}` })).items.length === 0
        ? true
        : undefined,
    );
  }, 180_000);

  it('puts a chain no agent holds on the least loaded agent, as an empty clone to replay into', async () => {
    const [a, b] = agents as [Agent, Agent];
    // One instance of K2 loads B; a chain of unknown keys then goes to A, the agent with fewer instances.
    const first = await inject('POST', '/instances', { ownerId: 'learner-2', layerKey: K2 });
    expect(first.statusCode, first.body).toBe(201);
    expect((await resource(first.json().id)).spec.node).toBe(b.node);
    const unknown = [key(), key()];
    const second = await inject('POST', '/instances', {
      ownerId: 'learner-2',
      ownerRole: 'anonymous',
      layerKey: unknown[1],
      layerKeys: unknown,
    });
    expect(second.statusCode, second.body).toBe(201);
    const info = second.json();
    expect(info).toMatchObject({ state: 'Running', layerKey: null, currentKey: null, source: 'template' });
    const made = await resource(info.id);
    expect(made.spec).toMatchObject({ node: a.node, layerKey: 'template', ttlSeconds: 900 });
    const clonePath = made.status?.clonePath ?? '';
    expect(clonePath).toBe(join(a.root, 'volumes', made.metadata.uid ?? ''));
    expect(await readdir(clonePath)).toEqual([]);
    const pods = (await core.listNamespacedPod({ namespace, labelSelector: `taidon.dev/instance=${info.id}` })).items;
    expect(pods[0]?.spec?.nodeName).toBe(a.node);
    // The empty clone is made the template in its Pod, by an init container the restricted profile admitted;
    // a Pod on a layer's clone has none.
    expect(pods[0]?.spec?.initContainers?.map((c) => [c.name, c.securityContext?.runAsNonRoot ?? null])).toEqual([
      ['init-clone', null],
    ]);
    expect(pods[0]?.spec?.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 999 });
    const onLayer = (
      await core.listNamespacedPod({ namespace, labelSelector: `taidon.dev/instance=${first.json().id}` })
    ).items;
    expect(onLayer[0]?.spec?.initContainers ?? []).toEqual([]);

    for (const id of [first.json().id, info.id])
      expect((await inject('DELETE', `/instances/${id}`)).statusCode).toBe(200);
    expect(await readdir(join(a.root, 'volumes'))).toEqual([]);
    expect(await readdir(join(b.root, 'volumes'))).toEqual([]);
  }, 180_000);

  it('breaks ties of depth by fewer instances, then by node name; never picks a node without an agent', async () => {
    const [a, b] = agents as [Agent, Agent];
    // Both agents hold K4: equally deep.
    const K4 = key();
    await layerOn(a, K4, 'k4 on A');
    await layerOn(b, K4, 'k4 on B');
    const first = (await inject('POST', '/instances', { ownerId: 'learner-3', layerKey: K4 })).json();
    const second = (await inject('POST', '/instances', { ownerId: 'learner-3', layerKey: K4 })).json();
    try {
      // Equal load (none): the first name; then the other one, which has fewer instances.
      expect((await resource(first.id)).spec).toMatchObject({ node: a.node, layerKey: K4 });
      expect((await resource(second.id)).spec).toMatchObject({ node: b.node, layerKey: K4 });
    } finally {
      for (const id of [first.id, second.id]) await inject('DELETE', `/instances/${id}`);
    }
    // A Ready node with no agent is never a candidate, however empty; an agent on a node not Ready neither.
    const client = createAgentClient({ serviceToken: TOKEN });
    const placed = await placeOnAgents({
      agents: [
        { node: a.node, url: a.url },
        { node: 'node-not-ready', url: b.url },
      ],
      client,
      nodes: [a.node, 'node-without-agent'],
      keys: [key()],
      load: new Map([[a.node, 50]]),
    });
    expect(placed).toMatchObject({ node: a.node, layerKey: null, depth: -1 });
    expect(
      await placeOnAgents({
        agents: [{ node: 'node-not-ready', url: b.url }],
        client,
        nodes: [a.node],
        keys: [K4],
        load: new Map(),
      }),
    ).toBeUndefined();
  }, 180_000);

  it('passes over an agent that does not answer a lookup within its deadline, instead of waiting for it', async () => {
    const [a, b] = agents as [Agent, Agent];
    // An agent whose node holds the connection open and never answers (a hung process).
    const sockets: Socket[] = [];
    const hung = createServer((socket) => void sockets.push(socket));
    await new Promise<void>((resolve) => hung.listen(0, '127.0.0.1', resolve));
    const { port } = hung.address() as AddressInfo;
    try {
      const started = performance.now();
      const placed = await placeOnAgents({
        agents: [
          { node: a.node, url: a.url },
          { node: b.node, url: `http://127.0.0.1:${port}` },
        ],
        client: createAgentClient({ serviceToken: TOKEN, lookupTimeoutMs: 1_000 }),
        nodes: [a.node, b.node],
        keys: [K1],
        load: new Map([[a.node, 9]]),
        logger,
      });
      expect(placed).toMatchObject({ node: a.node, layerKey: K1 });
      expect(performance.now() - started).toBeLessThan(10_000);
      expect(lines().some((l) => l.includes('did not answer a lookup') && l.includes(b.node))).toBe(true);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => hung.close(resolve));
    }
  }, 60_000);

  it('finds the node agents as the Ready Pods of its selector, by nodeName and podIP, as an account that may only read Pods there', async () => {
    const platform = `em-agents-${process.pid}`;
    await core.createNamespace({ body: { metadata: { name: platform } } });
    try {
      await until('the default service account', () =>
        core.readNamespacedServiceAccount({ name: 'default', namespace: platform }),
      );
      // The chart's Role for env-manager in the release namespace (Pods, get and list), as helm renders it for a
      // release in `platform`; its sandbox-namespace objects are the ones sandboxNamespace() already made.
      const rendered = await chartRbac(platform, namespace);
      await core.createNamespacedServiceAccount({
        namespace: platform,
        body: { metadata: { name: rendered.account } },
      });
      const inRelease = rendered.objects.filter((o) => o.metadata.namespace === platform);
      expect(inRelease.map((o) => o.kind).sort()).toEqual(['Role', 'RoleBinding']);
      await applyRbac(admin, inRelease);
      const reader = await accountConfig(plane, admin, rendered.account, platform);
      const agentPod = (name: string, node: string, component: string) => ({
        metadata: {
          name,
          labels: { 'app.kubernetes.io/instance': 'taidon', 'app.kubernetes.io/component': component },
        },
        spec: { nodeName: node, containers: [{ name: 'agent', image: 'taidon/platform:test' }] },
      });
      const [n0, n1] = plane.nodes as [string, string];
      for (const [name, node, component] of [
        ['agent-0', n0, 'snapshot-cache'],
        ['agent-1', n1, 'snapshot-cache'],
        ['runner-0', n0, 'sql-runner'],
      ] as const) {
        await core.createNamespacedPod({ namespace: platform, body: agentPod(name, node, component) });
      }
      const directory = podAgents({
        kubeConfig: reader,
        namespace: platform,
        selector: 'app.kubernetes.io/instance=taidon,app.kubernetes.io/component=snapshot-cache',
        port: 8080,
        logger,
        refreshMs: 0,
      });
      const both = await until('both agents Running and Ready', async () => {
        const found = await directory.agents();
        return found.length === 2 ? found : undefined;
      });
      const ips = new Map<string, string>();
      for (const name of ['agent-0', 'agent-1']) {
        const pod = await core.readNamespacedPod({ name, namespace: platform });
        ips.set(pod.spec?.nodeName ?? '', pod.status?.podIP ?? '');
      }
      expect(both).toEqual([
        { node: n0, url: `http://${ips.get(n0)}:8080` },
        { node: n1, url: `http://${ips.get(n1)}:8080` },
      ]);
      // An agent going away leaves the list at the next read.
      await core.deleteNamespacedPod({ name: 'agent-1', namespace: platform, gracePeriodSeconds: 0 });
      const left = await until('agent-1 gone from the list', async () => {
        const found = await directory.agents();
        return found.length === 1 ? found : undefined;
      });
      expect(left.map((a) => a.node)).toEqual([n0]);
    } finally {
      await core.deleteNamespace({ name: platform }).catch(() => undefined);
    }
  }, 120_000);

  it("takes a layer of an instance on its node's agent, which then holds it: the next instance of that chain goes there, cloned from it", async () => {
    const [a, b] = agents as [Agent, Agent];
    // An instance of K2 goes to B (the only holder); the learner's work then lands in its clone.
    const created = await inject('POST', '/instances', { ownerId: 'learner-5', layerKey: K2, layerKeys: [K1, K2] });
    expect(created.statusCode, created.body).toBe(201);
    const first = created.json();
    const made = await resource(first.id);
    expect(made.spec.node).toBe(b.node);
    const clonePath = made.status?.clonePath ?? '';
    await writeFile(join(clonePath, 'MARKER'), 'k5 from the instance on B');
    const K5 = key();
    const layerOfFirst = () =>
      inject('POST', `/instances/${first.id}/layers`, { key: K5, parentKey: K2, stepCount: 2, buildMs: 40 });
    // Running on an atomic driver, its server is checkpointed before the snapshot (ADR 0049); no PostgreSQL
    // answers in this test's Pods, so the layer is refused and nothing is taken. A layer of a Running instance
    // whose server answers is kubernetes-template-reset.test.ts's.
    const refused = await layerOfFirst();
    expect(refused.statusCode, refused.body).toBe(503);
    expect(refused.json()).toMatchObject({ code: 'ENV_MANAGER_SNAPSHOT_FAILED' });
    expect((await call(b, 'GET', `/layers/${K5}`)).status).toBe(404);
    expect((await resource(first.id)).status?.state).toBe('Running');
    expect(lines().some((l) => l.includes('could not checkpoint before the snapshot') && l.includes(first.id))).toBe(
      true,
    );
    // Suspended, it has no server: its clone is snapshotted as it is.
    expect((await inject('POST', `/instances/${first.id}/suspend`)).statusCode).toBe(200);
    const taken = await layerOfFirst();
    expect(taken.statusCode, taken.body).toBe(201);
    expect(taken.json()).toMatchObject({
      layer: { key: K5, parentKey: K2, stepCount: 2, buildMs: 40 },
      instance: { id: first.id, state: 'Suspended' },
    });
    // B's agent holds it (its record and a read-only subvolume on its disk); A's does not.
    expect((await call(b, 'GET', `/layers/${K5}`)).status).toBe(200);
    expect((await call(a, 'GET', `/layers/${K5}`)).status).toBe(404);
    expect(await readFile(join(b.root, 'layers', K5, 'MARKER'), 'utf8')).toBe('k5 from the instance on B');
    // The instance's clone is still its own.
    await writeFile(join(clonePath, 'MARKER'), 'changed after the layer');

    // A new instance of the chain K1 → K2 → K5 → K6 lands on B, cloned from K5 (deepest held), not from K2.
    const next = await inject('POST', '/instances', {
      ownerId: 'learner-6',
      layerKey: K5,
      layerKeys: [K1, K2, K5, key()],
    });
    expect(next.statusCode, next.body).toBe(201);
    const second = next.json();
    expect(second).toMatchObject({ layerKey: K5, source: 'clone' });
    const placed = await resource(second.id);
    expect(placed.spec).toMatchObject({ node: b.node, layerKey: K5 });
    expect(await readFile(join(placed.status?.clonePath ?? '', 'MARKER'), 'utf8')).toBe('k5 from the instance on B');
    expect((await call(b, 'GET', `/layers/${K5}`)).json).toMatchObject({ liveClones: 1, hits: 1 });
    // The clone is a btrfs snapshot of the layer: its parent is the layer's subvolume.
    const show = async (path: string) => (await execFileP('btrfs', ['subvolume', 'show', path])).stdout;
    const layerUuid = /^\s*UUID:\s*(\S+)/m.exec(await show(join(b.root, 'layers', K5)))?.[1];
    expect(layerUuid).toBeTruthy();
    expect(/^\s*Parent UUID:\s*(\S+)/m.exec(await show(placed.status?.clonePath ?? ''))?.[1]).toBe(layerUuid);

    // A layer of an instance that is not there: 404 with its code; of one being deleted: nothing taken.
    const missing = await inject('POST', '/instances/00000000-0000-4000-8000-000000000001/layers', {
      key: key(),
      stepCount: 1,
      buildMs: 1,
    });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ code: 'ENV_MANAGER_INSTANCE_NOT_FOUND' });
    for (const id of [first.id, second.id]) expect((await inject('DELETE', `/instances/${id}`)).statusCode).toBe(200);
    expect(await readdir(join(b.root, 'volumes'))).toEqual([]);
  }, 180_000);

  it("frees a node agent's clone that no TaidonInstance names once past its grace period, never a live instance's, and counts it", async () => {
    const [a, b] = agents as [Agent, Agent];
    // A live instance on A (the holder of K1): its clone soon older than the grace, and named by its resource.
    const live = await inject('POST', '/instances', { ownerId: 'learner-7', layerKey: K1 });
    expect(live.statusCode, live.body).toBe(201);
    const liveUid = (await resource(live.json().id)).metadata.uid ?? '';
    // An orphan on B, made as the reconciler makes clones (a volume named by a uid) but with no resource: a
    // create that died between the clone and the resource, or an instance whose finalizer an operator forced away.
    const orphan = randomUUID();
    const made = Date.now();
    expect((await call(b, 'POST', '/volumes', { id: orphan, fromLayerKey: K2 })).status).toBe(201);
    const freedAt = await until(
      'the orphan clone freed on its agent',
      async () => ((await readdir(join(b.root, 'volumes'))).includes(orphan) ? undefined : Date.now()),
      60_000,
    );
    // The sweep ran every 2 s meanwhile: while the clone was younger than the grace, it was left alone.
    expect(freedAt - made).toBeGreaterThanOrEqual(ORPHAN_GRACE_SECONDS * 1000);
    expect((await call(b, 'GET', `/volumes`)).json.map((v: { id: string }) => v.id)).not.toContain(orphan);
    expect((await call(b, 'GET', `/layers/${K2}`)).json).toMatchObject({ liveClones: 0 });
    expect(lines().some((l) => l.includes('freed a clone with no instance') && l.includes(orphan))).toBe(true);
    const metrics = await envManager.app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toMatch(/^taidon_orphan_clones_freed_total\{service="env-manager"\} [1-9]\d*$/m);
    // The live instance's clone, past the grace too, stays: its resource names it.
    expect(Date.now() - made).toBeGreaterThan(ORPHAN_GRACE_SECONDS * 1000);
    expect(await readdir(join(a.root, 'volumes'))).toContain(liveUid);
    expect((await resource(live.json().id)).status?.state).toBe('Running');
    expect((await inject('DELETE', `/instances/${live.json().id}`)).statusCode).toBe(200);
    expect(await readdir(join(a.root, 'volumes'))).toEqual([]);
  }, 120_000);
});
