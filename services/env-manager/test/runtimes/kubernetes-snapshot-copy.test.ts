import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { SERVICE_TOKEN_HEADER } from '@taidon/kit';
import { captureLogger, createTestDatabase, type TestDatabase } from '@taidon/kit/testing';
import { loadSnapshotCacheConfig, type StartedSnapshotCache, startSnapshotCache } from '@taidon/snapshot-cache';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ControlPlaneInfo, skipReason } from '../../../../e2e/k8s/control-plane.js';
import { useControlPlane } from '../../../../e2e/k8s/use-control-plane.js';
import { loadEnvManagerConfig } from '../../src/config.js';
import { coordinates, type TaidonInstance } from '../../src/runtimes/kubernetes/types.js';
import { type StartedEnvManager, startEnvManager } from '../../src/start.js';
import { RUNTIME_TOOLS, sandboxNamespace } from '../helpers/kubernetes.js';

// A layer of an instance on a node whose agent has no atomic snapshots (the
// copy driver): env-manager suspends the instance (its Pod goes, PostgreSQL
// stopping with it), has the agent copy the clone into the layer, and resumes
// it on a new Pod. Real control plane, one real agent (snapshot-cache on the
// copy driver) for one kwok node, env-manager by its start function.

const TOKEN = 'test-service-token';
const skip = skipReason(RUNTIME_TOOLS);
if (skip) console.warn(`kubernetes copy-driver snapshot tests skipped: ${skip}`);
const namespace = `em-snapcopy-${process.pid}`;

describe.skipIf(skip !== undefined)('env-manager on a cluster: a layer on an agent without atomic snapshots', () => {
  let plane: ControlPlaneInfo;
  let release: () => Promise<void>;
  let admin: KubeConfig;
  let account: KubeConfig;
  let cleanup: () => Promise<void>;
  let work: string;
  let agentDb: TestDatabase;
  let emDb: TestDatabase;
  let agent: StartedSnapshotCache;
  let agentUrl: string;
  let envManager: StartedEnvManager;

  const inject = (method: 'GET' | 'POST' | 'DELETE', url: string, payload?: object) =>
    envManager.app.inject({ method, url, headers: { [SERVICE_TOKEN_HEADER]: TOKEN }, ...(payload ? { payload } : {}) });

  beforeAll(async () => {
    ({ plane, release } = await useControlPlane());
    ({ admin, account, cleanup } = await sandboxNamespace(plane, namespace));
    work = await mkdtemp(join(tmpdir(), 'em-snapcopy-'));
    agentDb = await createTestDatabase('sc_copy');
    const node = plane.nodes[0] as string;
    agent = await startSnapshotCache(
      loadSnapshotCacheConfig({
        SNAPSHOT_CACHE_DATABASE_URL: agentDb.url,
        SNAPSHOT_CACHE_ROOT: join(work, 'root'),
        SNAPSHOT_CACHE_DRIVER: 'copy',
        SNAPSHOT_CACHE_SPARE_CLONES: '0',
        SNAPSHOT_CACHE_NODE_NAME: node,
        SERVICE_TOKEN: TOKEN,
      }),
      { logger: captureLogger('snapshot-cache').logger },
    );
    agentUrl = await agent.app.listen({ host: '127.0.0.1', port: 0 });
    const kubeconfig = join(work, 'env-manager.kubeconfig');
    await writeFile(kubeconfig, account.exportConfig(), { mode: 0o600 });
    emDb = await createTestDatabase('em_snapcopy');
    envManager = await startEnvManager(
      loadEnvManagerConfig({
        ENV_MANAGER_RUNTIME: 'kubernetes',
        ENV_MANAGER_DATABASE_URL: emDb.url,
        SERVICE_TOKEN: TOKEN,
        SANDBOX_ADMIN_PASSWORD: 'sandbox-admin',
        KUBECONFIG: kubeconfig,
        SANDBOX_NAMESPACE: namespace,
        SNAPSHOT_CACHE_AGENTS: `${node}=${agentUrl}`,
        SANDBOX_LEASE_DURATION_MS: '5000',
        SANDBOX_CPU_REQUEST: '50m',
        SANDBOX_MEMORY_REQUEST: '64Mi',
        INSTANCE_START_TIMEOUT_MS: '90000',
        POD_NAME: 'env-manager-snapcopy-0',
      }),
      { logger: captureLogger('env-manager').logger },
    );
    await envManager.app.ready();
  }, 300_000);

  afterAll(async () => {
    await envManager?.close();
    await cleanup?.();
    await agent?.close().catch(() => undefined);
    await agentDb?.drop().catch(() => undefined);
    await emDb?.drop().catch(() => undefined);
    if (work) await rm(work, { recursive: true, force: true });
    await release?.();
  }, 180_000);

  it('suspends the instance around the copy and resumes it on a new Pod; the agent then holds the layer', async () => {
    const core = admin.makeApiClient(CoreV1Api);
    const custom = admin.makeApiClient(CustomObjectsApi);
    const created = await inject('POST', '/instances', { ownerId: 'learner-c', layerKey: null });
    expect(created.statusCode, created.body).toBe(201);
    const { id } = created.json();
    const podOf = async () =>
      (await core.listNamespacedPod({ namespace, labelSelector: `taidon.dev/instance=${id}` })).items.filter(
        (p) => !p.metadata?.deletionTimestamp,
      );
    const before = (await podOf())[0]?.metadata?.uid;
    expect(before).toBeTruthy();
    const made = (await custom.getNamespacedCustomObject({ ...coordinates(namespace), name: id })) as TaidonInstance;
    await writeFile(join(made.status?.clonePath ?? '', 'MARKER'), 'copied while stopped');

    const key = 'c'.repeat(64);
    const taken = await inject('POST', `/instances/${id}/layers`, { key, stepCount: 0, buildMs: 10 });
    expect(taken.statusCode, taken.body).toBe(201);
    expect(taken.json()).toMatchObject({ layer: { key, parentKey: null }, instance: { id, state: 'Running' } });
    const after = await podOf();
    expect(after).toHaveLength(1);
    expect(after[0]?.metadata?.uid).not.toBe(before);
    expect(taken.json().instance.host).toBe(after[0]?.status?.podIP);
    expect(await readFile(join(work, 'root', 'layers', key, 'MARKER'), 'utf8')).toBe('copied while stopped');
    const held = await fetch(`${agentUrl}/layers/lookup`, {
      method: 'POST',
      headers: { [SERVICE_TOKEN_HEADER]: TOKEN, 'content-type': 'application/json' },
      body: JSON.stringify({ keys: [key] }),
    });
    expect(await held.json()).toMatchObject({ key, index: 0 });
    expect((await inject('DELETE', `/instances/${id}`)).statusCode).toBe(200);
  }, 180_000);
});
