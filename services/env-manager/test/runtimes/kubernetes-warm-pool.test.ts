import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, request as httpRequest, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  AdmissionregistrationV1Api,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
} from '@kubernetes/client-node';
import { SERVICE_TOKEN_HEADER } from '@taidon/kit';
import { captureLogger, createTestDatabase, type TestDatabase } from '@taidon/kit/testing';
import { loadSnapshotCacheConfig, type StartedSnapshotCache, startSnapshotCache } from '@taidon/snapshot-cache';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ControlPlaneInfo, skipReason, toolPath } from '../../../../e2e/k8s/control-plane.js';
import { eventually } from '../../../../e2e/k8s/eventually.js';
import { useControlPlane } from '../../../../e2e/k8s/use-control-plane.js';
import { loadEnvManagerConfig } from '../../src/config.js';
import { coordinates, type TaidonInstance } from '../../src/runtimes/kubernetes/types.js';
import { type StartedEnvManager, startEnvManager } from '../../src/start.js';
import { RUNTIME_TOOLS, sandboxNamespace, until } from '../helpers/kubernetes.js';

// The warm pool on the kubernetes runtime (ADR 0034): two env-manager replicas, each started by its one start
// function as a cluster runs it (ENV_MANAGER_RUNTIME=kubernetes), sharing one control-plane database, against the
// real kube-apiserver and kwok nodes of e2e/k8s, with one real node agent (snapshot-cache, copy driver) holding
// the pooled layer. Pooled instances are TaidonInstances labelled taidon.dev/pooled, made by the replica that
// holds the reconciler's Lease only; a claim through any replica takes one Ready instance once.
//
// The replicas reach the agent through a pass-through proxy that can hold the agent's GET /driver answers: a new
// instance's template database is kept (keepTemplate) after its Pod is Ready, and asking the agent's driver is the
// first thing that does, so while an ask is held a pooled instance is Ready with its template not kept yet. A held
// ask ends when the test lets it through, or when env-manager's agent lookup gives up (2 s): keepTemplate then logs
// and goes on, as it would without a template.

const TOKEN = 'test-service-token';
const LEASE = 'taidon-env-manager-reconciler';
const skip = skipReason([...RUNTIME_TOOLS, 'kubectl']);
if (skip) console.warn(`kubernetes warm-pool tests skipped: ${skip}`);
const namespace = `em-warmpool-${process.pid}`;

/** A Lease's times are MicroTime: six fraction digits, where Date.toISOString() gives three (see lease.ts). */
class MicroTime extends Date {
  override toISOString(): string {
    return super.toISOString().replace(/Z$/, '000Z');
  }
}

interface Replica {
  name: string;
  started: StartedEnvManager;
  lines: () => string[];
}

describe.skipIf(skip !== undefined)('env-manager on a cluster: the warm pool', () => {
  let plane: ControlPlaneInfo;
  let release: () => Promise<void>;
  let admin: KubeConfig;
  let account: KubeConfig;
  let cleanup: () => Promise<void>;
  let custom: CustomObjectsApi;
  let core: CoreV1Api;
  let work: string;
  let agentDb: TestDatabase;
  let emDb: TestDatabase;
  let agent: StartedSnapshotCache;
  let agentUrl: string;
  let proxy: Server;
  let proxyUrl: string;
  let kubeconfig: string;
  /** Whether the proxy holds GET /driver asks now, and the asks it holds (each forwarded when let through). */
  let holdDriver = true;
  const held = new Map<ServerResponse, () => void>();
  const letDriverThrough = () => {
    holdDriver = false;
    for (const forward of held.values()) forward();
    held.clear();
  };
  const replicas: Replica[] = [];
  const K = randomBytes(32).toString('hex');

  const inject = (replica: Replica, method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: object) =>
    replica.started.app.inject({
      method,
      url,
      headers: { [SERVICE_TOKEN_HEADER]: TOKEN },
      ...(payload ? { payload } : {}),
    });
  const instances = async () =>
    ((await custom.listNamespacedCustomObject({ ...coordinates(namespace) })) as { items: TaidonInstance[] }).items;
  const pooled = async () =>
    (await instances()).filter(
      (i) => i.metadata.labels?.['taidon.dev/pooled'] === 'true' && !i.metadata.deletionTimestamp,
    );
  const ready = (i: TaidonInstance) =>
    i.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;
  /** Waits until exactly `n` pooled instances are there, all Ready, and answers their names. */
  const poolOf = (n: number, what: string) =>
    until(
      what,
      async () => {
        const now = await pooled();
        return now.length === n && now.every(ready) ? now.map((i) => i.metadata.name ?? '').sort() : undefined;
      },
      90_000,
    );
  const holder = async () =>
    (await admin.makeApiClient(CoordinationV1Api).readNamespacedLease({ name: LEASE, namespace })).spec?.holderIdentity;
  const placedBy = (replica: Replica) => replica.lines().filter((l) => l.includes('"instance placed"')).length;

  const startReplica = async (name: string): Promise<Replica> => {
    const { logger, lines } = captureLogger(`env-manager-${name}`);
    const started = await startEnvManager(
      loadEnvManagerConfig({
        ENV_MANAGER_RUNTIME: 'kubernetes',
        ENV_MANAGER_DATABASE_URL: emDb.url,
        SERVICE_TOKEN: TOKEN,
        SANDBOX_ADMIN_PASSWORD: 'sandbox-admin',
        KUBECONFIG: kubeconfig,
        SANDBOX_NAMESPACE: namespace,
        SNAPSHOT_CACHE_AGENTS: `${plane.nodes[0]}=${proxyUrl}`,
        SANDBOX_LEASE_DURATION_MS: '3000',
        SANDBOX_CPU_REQUEST: '10m',
        SANDBOX_MEMORY_REQUEST: '16Mi',
        INSTANCE_START_TIMEOUT_MS: '60000',
        // The warm-pool loop at a test's pace.
        RECONCILE_INTERVAL_MS: '300',
        WARM_POOL_MAX_INSTANCES: '4',
        POD_NAME: name,
        // No PostgreSQL behind kwok's Pods: no template database is waited for.
        SANDBOX_TEMPLATE_WAIT_MS: '0',
      }),
      { logger },
    );
    await started.app.ready();
    return { name, started, lines };
  };

  beforeAll(async () => {
    ({ plane, release } = await useControlPlane());
    ({ admin, account, cleanup } = await sandboxNamespace(plane, namespace));
    custom = admin.makeApiClient(CustomObjectsApi);
    core = admin.makeApiClient(CoreV1Api);
    work = await mkdtemp(join(tmpdir(), 'em-warmpool-'));
    agentDb = await createTestDatabase('sc_warmpool');
    agent = await startSnapshotCache(
      loadSnapshotCacheConfig({
        SNAPSHOT_CACHE_DATABASE_URL: agentDb.url,
        SNAPSHOT_CACHE_ROOT: join(work, 'root'),
        SNAPSHOT_CACHE_DRIVER: 'copy',
        SNAPSHOT_CACHE_SPARE_CLONES: '0',
        SNAPSHOT_CACHE_NODE_NAME: plane.nodes[0] as string,
        SERVICE_TOKEN: TOKEN,
      }),
      { logger: captureLogger('snapshot-cache').logger },
    );
    agentUrl = await agent.app.listen({ host: '127.0.0.1', port: 0 });
    proxy = createServer((req, res) => {
      const forward = () => {
        const upstream = httpRequest(`${agentUrl}${req.url}`, { method: req.method, headers: req.headers }, (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        });
        upstream.on('error', () => res.destroy());
        req.pipe(upstream);
      };
      if (holdDriver && req.method === 'GET' && req.url === '/driver') {
        held.set(res, forward);
        // The asker gave up (its lookup timeout): nothing to forward any more.
        res.on('close', () => held.delete(res));
        return;
      }
      forward();
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    // The layer K on the node's agent: a volume with a file, taken as a layer, the volume then deleted.
    const call = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${agentUrl}${path}`, {
        method,
        headers: { [SERVICE_TOKEN_HEADER]: TOKEN, ...(body ? { 'content-type': 'application/json' } : {}) },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      const text = await res.text();
      return { status: res.status, json: text ? JSON.parse(text) : undefined };
    };
    const volume = await call('POST', '/volumes', {});
    expect(volume.status).toBe(201);
    await writeFile(join(volume.json.path, 'PG_VERSION'), '18\n');
    const layer = await call('POST', '/layers', {
      key: K,
      parentKey: null,
      volumeId: volume.json.id,
      stepCount: 1,
      buildMs: 1,
    });
    expect(layer.status).toBe(201);
    expect((await call('DELETE', `/volumes/${volume.json.id}`)).status).toBe(204);
    // Someone else holds the reconciler's Lease for now: both replicas start as followers.
    await admin.makeApiClient(CoordinationV1Api).createNamespacedLease({
      namespace,
      body: {
        metadata: { name: LEASE },
        spec: {
          holderIdentity: 'someone-else',
          leaseDurationSeconds: 3600,
          acquireTime: new MicroTime(),
          renewTime: new MicroTime(),
        },
      },
    });
    kubeconfig = join(work, 'env-manager.kubeconfig');
    await writeFile(kubeconfig, account.exportConfig(), { mode: 0o600 });
    emDb = await createTestDatabase('em_warmpool');
    replicas.push(await startReplica('env-manager-a'));
    replicas.push(await startReplica('env-manager-b'));
  }, 300_000);

  afterAll(async () => {
    for (const replica of replicas) await replica.started.close().catch(() => undefined);
    await cleanup?.();
    letDriverThrough();
    proxy?.closeAllConnections();
    await new Promise((resolve) => (proxy ? proxy.close(resolve) : resolve(undefined)));
    await agent?.close().catch(() => undefined);
    await agentDb?.drop().catch(() => undefined);
    await emDb?.drop().catch(() => undefined);
    if (work) await rm(work, { recursive: true, force: true });
    await release?.();
  }, 180_000);

  it('stores a demand on a follower and makes no pooled instance there; the replica that takes the Lease fills the pool to it', async () => {
    const [a, b] = replicas as [Replica, Replica];
    // Bounded as locally: demands past WARM_POOL_MAX_INSTANCES are refused.
    const tooMany = await inject(a, 'PUT', `/warm-pool/${K}`, { size: 5 });
    expect(tooMany.statusCode, tooMany.body).toBe(409);
    expect(tooMany.json()).toMatchObject({ code: 'ENV_MANAGER_WARM_POOL_FULL' });
    const demand = await inject(a, 'PUT', `/warm-pool/${K}`, { size: 2 });
    expect(demand.statusCode, demand.body).toBe(200);
    expect(demand.json()).toEqual({ key: K, size: 2, instances: 0 });
    // Ten passes of each follower's loop (every 300 ms): nothing made, by either.
    await new Promise((r) => setTimeout(r, 3000));
    expect(await instances()).toEqual([]);
    expect(placedBy(a) + placedBy(b)).toBe(0);
    expect((await inject(b, 'GET', '/warm-pool')).json()).toEqual([{ key: K, size: 2, instances: 0 }]);

    // The Lease freed: one replica takes it and fills the pool; the other still makes none.
    await admin.makeApiClient(CoordinationV1Api).deleteNamespacedLease({ name: LEASE, namespace });
    const names = await poolOf(2, 'two Ready pooled instances');
    const leader = (await holder()) ?? '';
    const [leading, following] = leader.startsWith(b.name) ? [b, a] : [a, b];
    expect(leader.startsWith(leading.name)).toBe(true);
    expect(placedBy(leading)).toBe(2);
    expect(placedBy(following)).toBe(0);
    for (const i of await pooled()) {
      expect(i.metadata.annotations).toMatchObject({ 'taidon.dev/pool-key': K, 'taidon.dev/current-key': K });
      expect(i.metadata.annotations?.['taidon.dev/owner-id']).toBeUndefined();
      expect(i.spec).toMatchObject({ layerKey: K, node: plane.nodes[0] });
      expect(i.spec.ttlSeconds).toBeUndefined();
    }
    // An operator sees them: `kubectl get taidoninstances -l taidon.dev/pooled`, with the Pooled column.
    const { stdout } = await promisify(execFile)(toolPath('kubectl'), [
      '--kubeconfig',
      plane.kubeconfig,
      'get',
      'taidoninstances',
      '--namespace',
      namespace,
      '--selector',
      'taidon.dev/pooled',
    ]);
    const [header, ...rows] = stdout.trim().split('\n');
    expect(header?.split(/\s+/)).toContain('POOLED');
    const column = header?.split(/\s+/).indexOf('POOLED') ?? -1;
    expect(rows.map((r) => r.split(/\s+/)[0]).sort()).toEqual(names);
    for (const row of rows) expect(row.split(/\s+/)[column]).toBe('true');
    // Both replicas list them, at their Pods' addresses, for a runner to connect to ahead of a claim.
    for (const replica of replicas) {
      const listed = (await inject(replica, 'GET', '/warm-pool/instances')).json() as Array<Record<string, unknown>>;
      expect(listed.map((l) => l.id).sort()).toEqual(names);
      for (const l of listed) expect(l).toMatchObject({ poolKey: K, pooled: true, state: 'Running', port: 5432 });
      expect(((await inject(replica, 'GET', '/warm-pool/instances?perKey=1')).json() as unknown[]).length).toBe(1);
      expect((await inject(replica, 'GET', '/warm-pool')).json()).toEqual([{ key: K, size: 2, instances: 2 }]);
    }
  }, 180_000);

  it('offers a pooled instance to claims and to runners only once its template database is kept', async () => {
    const names = await poolOf(2, 'the pool at 2');
    const leaderName = (await holder()) ?? '';
    const following = replicas.find((r) => !leaderName.startsWith(r.name)) as Replica;
    const first = await inject(following, 'POST', '/instances', { ownerId: 'learner-0', layerKey: K });
    expect(first.statusCode, first.body).toBe(201);
    expect(first.json().source).toBe('pool');
    const left = names.filter((n) => n !== first.json().id);
    // The leader refills: its new instance is Ready while its template is not kept (the driver ask held).
    const { fresh, ask } = await eventually(
      'a refill Ready with its template not kept yet',
      async () => {
        const fresh = (await instances()).find(
          (i) =>
            !names.includes(i.metadata.name ?? '') &&
            i.metadata.annotations?.['taidon.dev/pool-key'] === K &&
            !i.metadata.deletionTimestamp &&
            ready(i),
        );
        const [ask] = held.keys();
        return fresh && ask ? { fresh, ask } : undefined;
      },
      60_000,
      50,
    );
    const id = fresh.metadata.name ?? '';
    // Counted as the pool's (nothing started in its place), shown to an operator as starting, listed by no replica.
    expect(fresh.metadata.labels?.['taidon.dev/pooled']).toBe('starting');
    expect((await inject(following, 'GET', '/warm-pool')).json()).toEqual([{ key: K, size: 2, instances: 2 }]);
    expect((await inject(following, 'GET', `/instances/${id}`)).json()).toMatchObject({
      pooled: true,
      state: 'Creating',
    });
    for (const replica of replicas) {
      const listed = (await inject(replica, 'GET', '/warm-pool/instances')).json() as Array<{ id: string }>;
      expect(listed.map((l) => l.id)).toEqual(left);
    }
    // A claim naming it takes the other pooled instance, the one whose template is kept.
    const second = await inject(following, 'POST', '/instances', {
      ownerId: 'learner-00',
      layerKey: K,
      preferInstanceId: id,
    });
    expect(second.statusCode, second.body).toBe(201);
    expect(second.json()).toMatchObject({ source: 'pool', id: left[0] });
    // All of that while its template was still not kept: the driver ask of its start was still held.
    expect(held.has(ask)).toBe(true);
    letDriverThrough();
    // Its template kept, it is offered: labelled true, listed, claimable.
    const refilled = await poolOf(2, 'the pool refilled to 2');
    expect(refilled).toContain(id);
    for (const info of [first.json(), second.json()]) {
      expect((await inject(following, 'DELETE', `/instances/${info.id}`)).statusCode).toBe(200);
    }
  }, 180_000);

  it('hands each pooled instance to one claim only, records its owner, and the leader refills behind it', async () => {
    const names = await poolOf(2, 'the pool at 2');
    const leaderName = (await holder()) ?? '';
    const following = replicas.find((r) => !leaderName.startsWith(r.name)) as Replica;
    // Three claims at once through the follower: two take the two pooled instances, one each; the third clones.
    const claims = await Promise.all(
      ['learner-1', 'learner-2', 'learner-3'].map((ownerId) =>
        inject(following, 'POST', '/instances', {
          ownerId,
          ownerRole: 'anonymous',
          sessionId: `s-${ownerId}`,
          layerKey: K,
        }),
      ),
    );
    for (const c of claims) expect(c.statusCode, c.body).toBe(201);
    const infos = claims.map((c) => c.json());
    const fromPool = infos.filter((i) => i.source === 'pool');
    expect(fromPool.map((i) => i.id).sort()).toEqual(names);
    expect(infos.filter((i) => i.source === 'clone')).toHaveLength(1);
    console.log(
      `three creates at once through the follower, ms to a connectable instance: ${infos.map((i) => `${i.source} ${i.readyMs}`).join(', ')}`,
    );
    for (const info of fromPool) {
      expect(info).toMatchObject({ state: 'Running', port: 5432, layerKey: K, currentKey: K });
      const owner = `learner-${infos.indexOf(info) + 1}`;
      const made = (await custom.getNamespacedCustomObject({
        ...coordinates(namespace),
        name: info.id,
      })) as TaidonInstance;
      // Out of the pool: no label, no pool key; the owner, role, session and the owner's TTL written.
      expect(made.metadata.labels?.['taidon.dev/pooled']).toBeUndefined();
      expect(made.metadata.annotations?.['taidon.dev/pool-key']).toBeUndefined();
      expect(made.metadata.annotations).toMatchObject({
        'taidon.dev/owner-id': owner,
        'taidon.dev/owner-role': 'anonymous',
        'taidon.dev/session-id': `s-${owner}`,
      });
      expect(made.spec.ttlSeconds).toBeGreaterThan(0);
      const seen = (await inject(following, 'GET', `/instances/${info.id}`)).json();
      expect(seen).toMatchObject({ ownerId: owner, pooled: false, state: 'Running' });
      expect(
        (await inject(following, 'GET', `/instances?ownerId=${owner}`)).json().map((i: { id: string }) => i.id),
      ).toEqual([info.id]);
    }
    // The leader refills: two new pooled instances, Ready.
    const refilled = await poolOf(2, 'the pool refilled to 2');
    expect(refilled.filter((n) => names.includes(n))).toEqual([]);
    for (const info of infos) expect((await inject(following, 'DELETE', `/instances/${info.id}`)).statusCode).toBe(200);
  }, 240_000);

  it('creates a batch on the cluster one input at a time: each named pooled instance to its own input, the rest cloned', async () => {
    const names = await poolOf(2, 'the pool at 2');
    const leaderName = (await holder()) ?? '';
    const following = replicas.find((r) => !leaderName.startsWith(r.name)) as Replica;
    // The runtime has no claim of many in one write (ADR 0056): POST /instances/batch creates each input as
    // POST /instances would, the inputs naming an instance first, so each named instance goes to its own input
    // and the input naming none is cloned.
    const [first, second] = names as [string, string];
    const batch = await inject(following, 'POST', '/instances/batch', {
      instances: [
        { ownerId: 'batch-a', ownerRole: 'throwaway', layerKey: K, preferInstanceId: second },
        { ownerId: 'batch-b', ownerRole: 'throwaway', layerKey: K, preferInstanceId: first },
        { ownerId: 'batch-c', ownerRole: 'throwaway', layerKey: K },
      ],
    });
    expect(batch.statusCode, batch.body).toBe(200);
    const answers = batch.json().answers as { ok: boolean; instance?: { id: string; source: string } }[];
    try {
      expect(answers.map((x) => [x.ok, x.instance?.source])).toEqual([
        [true, 'pool'],
        [true, 'pool'],
        [true, 'clone'],
      ]);
      expect(answers.slice(0, 2).map((x) => x.instance?.id)).toEqual([second, first]);
      for (const [i, owner] of ['batch-a', 'batch-b', 'batch-c'].entries()) {
        expect((await inject(following, 'GET', `/instances/${answers[i]?.instance?.id}`)).json()).toMatchObject({
          ownerId: owner,
          pooled: false,
          state: 'Running',
        });
      }
    } finally {
      // Whatever the batch made is deleted, so the tests after this one find the pool as they expect.
      for (const x of answers) if (x.instance) await inject(following, 'DELETE', `/instances/${x.instance.id}`);
    }
  }, 240_000);

  it('continues the refill on the replica that takes the Lease over when the leader goes', async () => {
    await poolOf(2, 'the pool at 2');
    const leaderName = (await holder()) ?? '';
    const leader = replicas.find((r) => leaderName.startsWith(r.name)) as Replica;
    const survivor = replicas.find((r) => r !== leader) as Replica;
    const placedBefore = placedBy(survivor);
    await leader.started.close();
    replicas.splice(replicas.indexOf(leader), 1);
    await until('the survivor leading', async () =>
      ((await holder()) ?? '').startsWith(survivor.name) ? true : undefined,
    );
    const claim = await inject(survivor, 'POST', '/instances', { ownerId: 'learner-9', layerKey: K });
    expect(claim.statusCode, claim.body).toBe(201);
    expect(claim.json().source).toBe('pool');
    await poolOf(2, 'the pool refilled by the new leader');
    expect(placedBy(survivor)).toBe(placedBefore + 1);
    expect((await inject(survivor, 'DELETE', `/instances/${claim.json().id}`)).statusCode).toBe(200);
  }, 240_000);

  it('logs a pooled instance the namespace ResourceQuota refuses and makes it once there is room', async () => {
    const [replica] = replicas as [Replica];
    await poolOf(2, 'the pool at 2');
    await core.createNamespacedResourceQuota({
      namespace,
      // Room for the two pooled instances' Pods, none more: a third instance's Pod is refused.
      body: { metadata: { name: 'instances' }, spec: { hard: { pods: '2' } } },
    });
    await until('the quota counting the Pods', async () => {
      const quota = await core.readNamespacedResourceQuota({ name: 'instances', namespace });
      return quota.status?.used?.pods === '2' ? true : undefined;
    });
    const demand = await inject(replica, 'PUT', `/warm-pool/${K}`, { size: 3 });
    expect(demand.statusCode, demand.body).toBe(200);
    const refused = () =>
      replica
        .lines()
        .filter(
          (l) =>
            l.includes('warm pool could not start an instance') && l.includes('ENV_MANAGER_NAMESPACE_QUOTA_EXCEEDED'),
        ).length;
    // Refused at several passes, and the service serves meanwhile.
    await until('the refusal logged at several passes', async () => (refused() >= 3 ? true : undefined), 60_000);
    // Two Ready; a third resource is there only while each refused try is undone (its Pod refused, it is deleted).
    expect((await pooled()).filter(ready)).toHaveLength(2);
    expect((await instances()).filter(ready)).toHaveLength(2);
    expect((await inject(replica, 'GET', '/warm-pool')).json()).toMatchObject([{ key: K, size: 3 }]);
    expect((await replica.started.app.inject({ method: 'GET', url: '/health/ready' })).statusCode).toBe(200);
    await core.deleteNamespacedResourceQuota({ name: 'instances', namespace });
    await poolOf(3, 'the third pooled instance once the quota is gone');
  }, 240_000);

  it('makes a new instance for a learner whose claim the API server refuses, and leaves the pooled ones pooled', async () => {
    const [replica] = replicas as [Replica];
    const before = await poolOf(3, 'the pool at 3');
    // An admission policy refusing any write that hands a pooled instance to this learner: the claim's write fails
    // with neither a 409 nor a 404, as it would on an API server that cannot take it (a webhook down, a timeout).
    const admission = admin.makeApiClient(AdmissionregistrationV1Api);
    const policy = `${namespace}-refuse-claim`;
    await admission.createValidatingAdmissionPolicy({
      body: {
        metadata: { name: policy },
        spec: {
          failurePolicy: 'Fail',
          matchConstraints: {
            resourceRules: [
              { apiGroups: ['taidon.dev'], apiVersions: ['*'], operations: ['UPDATE'], resources: ['taidoninstances'] },
            ],
          },
          validations: [
            {
              expression:
                "!(has(oldObject.metadata.labels) && 'taidon.dev/pooled' in oldObject.metadata.labels && " +
                "has(object.metadata.annotations) && 'taidon.dev/owner-id' in object.metadata.annotations && " +
                "object.metadata.annotations['taidon.dev/owner-id'] == 'learner-refused')",
              message: 'no pooled instance for learner-refused',
            },
          ],
        },
      },
    });
    await admission.createValidatingAdmissionPolicyBinding({
      body: {
        metadata: { name: policy },
        spec: {
          policyName: policy,
          validationActions: ['Deny'],
          matchResources: { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': namespace } } },
        },
      },
    });
    try {
      // In force once a dry run of such a write is refused (the API server loads policies in the background).
      const probe = before[0] ?? '';
      await until('the policy in force', async () => {
        const body = (await custom.getNamespacedCustomObject({
          ...coordinates(namespace),
          name: probe,
        })) as TaidonInstance;
        body.metadata.annotations = { ...body.metadata.annotations, 'taidon.dev/owner-id': 'learner-refused' };
        return custom
          .replaceNamespacedCustomObject({ ...coordinates(namespace), name: probe, body, dryRun: 'All' })
          .then(
            () => undefined,
            (error: { code?: number }) => (error.code === 403 || error.code === 422 ? true : undefined),
          );
      });
      const created = await inject(replica, 'POST', '/instances', { ownerId: 'learner-refused', layerKey: K });
      expect(created.statusCode, created.body).toBe(201);
      expect(created.json()).toMatchObject({ source: 'clone', layerKey: K, state: 'Running' });
      expect(before).not.toContain(created.json().id);
      expect(replica.lines().filter((l) => l.includes('pooled instance not claimed')).length).toBeGreaterThan(0);
      // The pooled ones are still the pool's, untouched.
      expect(await poolOf(3, 'the pool still at 3')).toEqual(before);
      for (const i of await pooled()) expect(i.metadata.annotations?.['taidon.dev/owner-id']).toBeUndefined();
      expect((await inject(replica, 'DELETE', `/instances/${created.json().id}`)).statusCode).toBe(200);
    } finally {
      await admission.deleteValidatingAdmissionPolicyBinding({ name: policy }).catch(() => undefined);
      await admission.deleteValidatingAdmissionPolicy({ name: policy }).catch(() => undefined);
    }
  }, 240_000);

  it('deletes the unclaimed pooled instances through their finalizer when the demand drops to 0', async () => {
    const [replica] = replicas as [Replica];
    const claimed = await inject(replica, 'POST', '/instances', { ownerId: 'learner-10', layerKey: K });
    expect(claimed.statusCode, claimed.body).toBe(201);
    expect(claimed.json().source).toBe('pool');
    const demand = await inject(replica, 'PUT', `/warm-pool/${K}`, { size: 0 });
    expect(demand.statusCode, demand.body).toBe(200);
    // Every pooled resource gone (a resource with the clone's finalizer goes only once its clone is freed); the
    // claimed one stays.
    await until(
      'no pooled instance left',
      async () => ((await instances()).every((i) => i.metadata.name === claimed.json().id) ? true : undefined),
      90_000,
    );
    expect((await instances()).map((i) => i.metadata.name)).toEqual([claimed.json().id]);
    expect((await inject(replica, 'GET', '/warm-pool')).json()).toEqual([]);
    expect((await inject(replica, 'GET', '/warm-pool/instances')).json()).toEqual([]);
    const volumes = (await (
      await fetch(`${agentUrl}/volumes`, { headers: { [SERVICE_TOKEN_HEADER]: TOKEN } })
    ).json()) as unknown[];
    expect(volumes).toHaveLength(1);
    expect((await inject(replica, 'DELETE', `/instances/${claimed.json().id}`)).statusCode).toBe(200);
  }, 240_000);

  it('starts no more pooled instances once its replica stops leading, though its fill pass is still running', async () => {
    const [survivor] = replicas as [Replica];
    // A replica that never asked its agent's driver leads: each of its pooled starts waits for a held ask (2 s).
    holdDriver = true;
    const next = await startReplica('env-manager-c');
    replicas.push(next);
    await survivor.started.close();
    replicas.splice(replicas.indexOf(survivor), 1);
    await until('the new replica leading', async () =>
      ((await holder()) ?? '').startsWith(next.name) ? true : undefined,
    );
    // Four to start, two at a time (INSTANCE_START_CONCURRENCY 4): one pass starts two, then two more.
    const demand = await inject(next, 'PUT', `/warm-pool/${K}`, { size: 4 });
    expect(demand.statusCode, demand.body).toBe(200);
    // Both begun, the first Ready and keeping its template (one driver ask per replica at a time: the second
    // start waits for the same answer).
    const asks = await eventually(
      'the first two starts begun, one keeping its template',
      async () => (placedBy(next) >= 2 && held.size >= 1 ? [...held.keys()] : undefined),
      60_000,
      50,
    );
    expect(placedBy(next)).toBe(2);
    // Someone else takes the Lease while those two starts are still running.
    const coordination = admin.makeApiClient(CoordinationV1Api);
    const lease = await coordination.readNamespacedLease({ name: LEASE, namespace });
    lease.spec = {
      ...lease.spec,
      holderIdentity: 'someone-else',
      leaseDurationSeconds: 3600,
      acquireTime: new MicroTime(),
      renewTime: new MicroTime(),
    };
    await coordination.replaceNamespacedLease({ name: LEASE, namespace, body: lease });
    await eventually(
      'the replica demoted',
      async () => (next.lines().some((l) => l.includes('"stopped leading"')) ? true : undefined),
      10_000,
      50,
    );
    // Demoted during the pass: the two starts had not ended yet.
    for (const ask of asks) expect(held.has(ask)).toBe(true);
    // Those two end; the pass starts nothing after them, nor does any later pass of this follower.
    await poolOf(2, 'the two pooled instances begun before the demotion');
    await new Promise((r) => setTimeout(r, 3000));
    expect(placedBy(next)).toBe(2);
    expect(await instances()).toHaveLength(2);
    // The Lease freed again: the replica leads and retires what the demand no longer asks for.
    letDriverThrough();
    expect((await inject(next, 'PUT', `/warm-pool/${K}`, { size: 0 })).statusCode).toBe(200);
    await coordination.deleteNamespacedLease({ name: LEASE, namespace });
    await until('no pooled instance left', async () => ((await instances()).length === 0 ? true : undefined), 90_000);
  }, 240_000);
});
