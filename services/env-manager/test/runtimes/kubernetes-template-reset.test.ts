import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { CoreV1Api, CustomObjectsApi, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { chownTree, freePort, runCommand, SERVICE_TOKEN_HEADER, serverBinaries, serverOsUser } from '@taidon/kit';
import { captureLogger, createTestDatabase, type TestDatabase } from '@taidon/kit/testing';
import { loadSnapshotCacheConfig, type StartedSnapshotCache, startSnapshotCache } from '@taidon/snapshot-cache';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ControlPlaneInfo, skipReason } from '../../../../e2e/k8s/control-plane.js';
import { useControlPlane } from '../../../../e2e/k8s/use-control-plane.js';
import { loadEnvManagerConfig } from '../../src/config.js';
import { SANDBOX_ADMIN_USER, SANDBOX_DATABASE, SANDBOX_USER } from '../../src/engine/template.js';
import { TEMPLATE_DATABASE } from '../../src/engine/template-database.js';
import { INIT_CLONE_SCRIPT, initCloneEnv, scramVerifier } from '../../src/runtimes/kubernetes/init-clone.js';
import { coordinates, INSTANCE_LABEL, type TaidonInstance } from '../../src/runtimes/kubernetes/types.js';
import { type StartedEnvManager, startEnvManager } from '../../src/start.js';
import { btrfsReason, RUNTIME_TOOLS, sandboxNamespace, until } from '../helpers/kubernetes.js';
import { TEST_SETTINGS } from '../helpers/runtime.js';

// A reset from the template database on the kubernetes runtime (ADR 0029),
// and a layer of a running instance (ADR 0049), against the real control plane of e2e/k8s: env-manager started by its start
// function as a cluster runs it, one real node agent (snapshot-cache on a
// btrfs image) for a kwok node, and a real PostgreSQL behind the sandbox Pod.
// kwok gives the Pod an address of its node's loopback podCIDR, and the test
// plays the node's container runtime: once the Pod has its address, it starts
// PostgreSQL on the Pod's clone (the agent's btrfs snapshot of the layer),
// listening on that address and port 5432, as the unprivileged server user.
// env-manager connects there as it would to a Pod in a cluster. The layer is
// a real sandbox: the init container's script run on an agent's volume, rows
// written by the learner, the server stopped, the layer taken by the agent.

const TOKEN = 'test-service-token';
const ADMIN_PASSWORD = 'sandbox-admin';

const skip = skipReason(RUNTIME_TOOLS) ?? (await btrfsReason());
if (skip) console.warn(`kubernetes template reset tests skipped: ${skip}`);
const namespace = `em-reset-${process.pid}`;
const key = () => randomBytes(32).toString('hex');

/** A WAL position `X/Y` as a number, to compare. */
const lsn = (text: string) => {
  const [high = '0', low = '0'] = text.split('/');
  return (BigInt(`0x${high}`) << 32n) | BigInt(`0x${low}`);
};

/**
 * What a data directory's control file says, read from `global/pg_control` with no server on it: the cluster's
 * state (DBState; 6 is DB_IN_PRODUCTION, a server that was running) and the latest checkpoint's location. The
 * first fields of ControlFileData, unchanged for many majors: system id (8 bytes), two versions (4 + 4), state
 * (4, then 4 of padding), time (8), checkPoint (8, at byte 32).
 */
const controlFile = async (dataDir: string) => {
  const bytes = await readFile(join(dataDir, 'global', 'pg_control'));
  return { state: bytes.readInt32LE(16), checkpoint: bytes.readBigUInt64LE(32) };
};
const DB_IN_PRODUCTION = 6;

/** A PostgreSQL server this test runs on a data directory, as the Pod's container would. */
interface Served {
  pid: number;
  stop(): Promise<void>;
}

describe.skipIf(skip !== undefined)('env-manager on a cluster: a reset from the template database', () => {
  let plane: ControlPlaneInfo;
  let release: () => Promise<void>;
  let account: KubeConfig;
  let cleanup: () => Promise<void>;
  let core: CoreV1Api;
  let custom: CustomObjectsApi;
  let work: string;
  let sockets: string;
  let postgres: string;
  let agentDb: TestDatabase;
  let emDb: TestDatabase;
  let agent: StartedSnapshotCache;
  let agentUrl: string;
  let envManager: StartedEnvManager;
  const servers: Served[] = [];
  const user = serverOsUser();
  const { logger, lines } = captureLogger('env-manager');
  const K = key();

  const inject = (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: object) =>
    envManager.app.inject({ method, url, headers: { [SERVICE_TOKEN_HEADER]: TOKEN }, ...(payload ? { payload } : {}) });

  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${agentUrl}${path}`, {
      method,
      headers: { [SERVICE_TOKEN_HEADER]: TOKEN, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : undefined };
  };

  const connect = async (host: string, port: number, as: 'learner' | 'admin', database?: string) => {
    const client = new pg.Client({
      host,
      port,
      ...(as === 'learner'
        ? { user: SANDBOX_USER, database: database ?? SANDBOX_DATABASE }
        : { user: SANDBOX_ADMIN_USER, database: database ?? 'postgres', password: ADMIN_PASSWORD }),
    });
    client.on('error', () => {});
    await client.connect();
    return client;
  };

  /** PostgreSQL on `dataDir` at host:port, as the unprivileged user; resolves once it accepts the superuser. */
  const serve = async (dataDir: string, host: string, port: number): Promise<Served> => {
    // Its own socket directory, as each Pod has its own /run/postgresql: every Pod's server is on port 5432.
    const socketDir = join(sockets, host);
    await mkdir(socketDir, { recursive: true });
    await chownTree(socketDir, user);
    const child: ChildProcess = spawn(
      postgres,
      [
        '-D',
        dataDir,
        '-p',
        String(port),
        '-c',
        `listen_addresses=${host}`,
        '-c',
        `unix_socket_directories=${socketDir}`,
      ],
      { uid: user.uid, gid: user.gid, cwd: '/', stdio: ['ignore', 'ignore', 'pipe'], env: { LC_ALL: 'C.UTF-8' } },
    );
    let tail = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      tail = (tail + chunk.toString('utf8')).slice(-4000);
    });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const served: Served = {
      pid: child.pid ?? 0,
      async stop() {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
        await exited;
      },
    };
    servers.push(served);
    await until(
      `PostgreSQL on ${host}:${port}`,
      async () => {
        if (child.exitCode !== null) throw new Error(`PostgreSQL exited: ${tail}`);
        const client = await connect(host, port, 'admin').catch(() => undefined);
        await client?.end();
        return client ? true : undefined;
      },
      30_000,
    );
    return served;
  };

  const resource = async (name: string) =>
    (await custom.getNamespacedCustomObject({ ...coordinates(namespace), name })) as TaidonInstance;

  /** Pods whose server the test started already. */
  const servedPods = new Set<string>();

  /**
   * What the node does for a new sandbox Pod: once kwok gave it an address, PostgreSQL on its clone at that
   * address. Runs beside the create, which waits for Ready and then for the server (its template database).
   * `clone` is given the clone's path before any server runs on it.
   */
  const runNextPod = async (clone?: (path: string) => Promise<void>): Promise<{ pod: V1Pod; server: Served }> => {
    const pod = await until('a sandbox Pod with an address', async () => {
      const pods = (await core.listNamespacedPod({ namespace })).items;
      return pods.find(
        (p) => p.status?.podIP && !p.metadata?.deletionTimestamp && !servedPods.has(p.metadata?.uid ?? ''),
      );
    });
    servedPods.add(pod.metadata?.uid ?? '');
    const name = pod.metadata?.labels?.[INSTANCE_LABEL] ?? '';
    const clonePath = (await resource(name)).status?.clonePath ?? '';
    expect(clonePath).toContain('/volumes/');
    await clone?.(clonePath);
    return { pod, server: await serve(clonePath, pod.status?.podIP ?? '', 5432) };
  };

  beforeAll(async () => {
    ({ plane, release } = await useControlPlane());
    let admin: KubeConfig;
    ({ admin, account, cleanup } = await sandboxNamespace(plane, namespace));
    core = admin.makeApiClient(CoreV1Api);
    custom = admin.makeApiClient(CustomObjectsApi);
    work = await mkdtemp(join(tmpdir(), 'em-reset-'));
    // The server user reaches the agent's disk (mounted below) and its socket directory.
    await chmod(work, 0o755);
    sockets = join(work, 'sockets');
    await mkdir(sockets);
    await chownTree(sockets, user);
    postgres = (await serverBinaries(undefined, user)).postgres;
    const node = plane.nodes[0] as string;
    agentDb = await createTestDatabase('sc_reset');
    agent = await startSnapshotCache(
      loadSnapshotCacheConfig({
        SNAPSHOT_CACHE_DATABASE_URL: agentDb.url,
        SNAPSHOT_CACHE_ROOT: join(work, 'root'),
        SNAPSHOT_CACHE_DRIVER: 'btrfs',
        SNAPSHOT_CACHE_BTRFS_IMAGE: join(work, 'root.img'),
        SNAPSHOT_CACHE_BTRFS_IMAGE_BYTES: String(512 * 1024 ** 2),
        SNAPSHOT_CACHE_SPARE_CLONES: '0',
        SNAPSHOT_CACHE_NODE_NAME: node,
        SERVICE_TOKEN: TOKEN,
      }),
      { logger: captureLogger('snapshot-cache').logger },
    );
    agentUrl = await agent.app.listen({ host: '127.0.0.1', port: 0 });

    // The layer K: a sandbox made by the init container's script on a volume of the agent, the learner's rows
    // written, the server stopped cleanly, the layer taken by the agent.
    const volume = await call('POST', '/volumes', {});
    expect(volume.status).toBe(201);
    const settings = { template: TEST_SETTINGS, adminVerifier: scramVerifier(ADMIN_PASSWORD) };
    await runCommand('sh', ['-c', INIT_CLONE_SCRIPT, 'init-clone', volume.json.path], {
      timeoutMs: 120_000,
      uid: user.uid,
      gid: user.gid,
      cwd: '/',
      env: {
        PATH: `${dirname(postgres)}:/usr/bin:/bin`,
        ...Object.fromEntries(initCloneEnv(settings).map((e) => [e.name, e.value])),
      },
    });
    const port = await freePort();
    const building = await serve(volume.json.path, '127.0.0.1', port);
    const learner = await connect('127.0.0.1', port, 'learner');
    await learner.query(`CREATE TABLE items (n int PRIMARY KEY, label text NOT NULL);
                         INSERT INTO items VALUES (1, 'one'), (2, 'two')`);
    await learner.end();
    await building.stop();
    const layer = await call('POST', '/layers', {
      key: K,
      parentKey: null,
      volumeId: volume.json.id,
      stepCount: 1,
      buildMs: 5,
    });
    expect(layer.status, JSON.stringify(layer.json)).toBe(201);
    expect((await call('DELETE', `/volumes/${volume.json.id}`)).status).toBe(204);

    const kubeconfig = join(work, 'env-manager.kubeconfig');
    await writeFile(kubeconfig, account.exportConfig(), { mode: 0o600 });
    emDb = await createTestDatabase('em_reset');
    envManager = await startEnvManager(
      loadEnvManagerConfig({
        ENV_MANAGER_RUNTIME: 'kubernetes',
        ENV_MANAGER_DATABASE_URL: emDb.url,
        SERVICE_TOKEN: TOKEN,
        SANDBOX_ADMIN_PASSWORD: ADMIN_PASSWORD,
        KUBECONFIG: kubeconfig,
        SANDBOX_NAMESPACE: namespace,
        SNAPSHOT_CACHE_AGENTS: `${node}=${agentUrl}`,
        SANDBOX_LEASE_DURATION_MS: '5000',
        SANDBOX_CPU_REQUEST: '50m',
        SANDBOX_MEMORY_REQUEST: '64Mi',
        INSTANCE_START_TIMEOUT_MS: '90000',
        POD_NAME: 'env-manager-test-0',
      }),
      { logger },
    );
    await envManager.app.ready();
  }, 300_000);

  afterAll(async () => {
    for (const server of servers) await server.stop().catch(() => undefined);
    await envManager?.close();
    await cleanup?.();
    await agent?.close().catch(() => undefined);
    await agentDb?.drop().catch(() => undefined);
    await emDb?.drop().catch(() => undefined);
    if (work) await rm(work, { recursive: true, force: true });
    await release?.();
  }, 180_000);

  it("restores the layer's rows on the same instance and Pod after the learner changed them; the learner cannot reach the template", async () => {
    const creating = inject('POST', '/instances', {
      ownerId: 'learner-1',
      ownerRole: 'learner',
      sessionId: 'session-1',
      layerKey: K,
      layerKeys: [K],
    });
    const { pod, server } = await runNextPod();
    const created = await creating;
    expect(
      created.statusCode,
      `${created.body}\n${lines()
        .filter((l) => l.includes('"level":50') || l.includes('"level":40'))
        .join('\n')}`,
    ).toBe(201);
    const info = created.json();
    const host = pod.status?.podIP ?? '';
    expect(host).toMatch(/^127\./);
    expect(info).toMatchObject({ state: 'Running', host, port: 5432, layerKey: K, source: 'clone' });

    // The clone keeps the layer's state as its template database, closed to every connection and labelled with K.
    const admin = await connect(host, 5432, 'admin');
    const template = await admin.query(
      `SELECT datallowconn, shobj_description(oid, 'pg_database') AS label FROM pg_database WHERE datname = $1`,
      [TEMPLATE_DATABASE],
    );
    expect(template.rows).toHaveLength(1);
    expect(template.rows[0].datallowconn).toBe(false);
    expect(JSON.parse(template.rows[0].label)).toMatchObject({ key: K });
    const startedAt = (await admin.query('SELECT pg_postmaster_start_time()::text AS at')).rows[0].at;

    // The learner changes the layer's rows and adds a table, and keeps the connection open.
    const learner = await connect(host, 5432, 'learner');
    await learner.query(`UPDATE items SET label = 'changed'; INSERT INTO items VALUES (3, 'three');
                         CREATE TABLE mine (x int)`);

    const reset = await inject('POST', `/instances/${info.id}/reset`, { key: K });
    expect(reset.statusCode, reset.body).toBe(200);
    expect(reset.json()).toMatchObject({ id: info.id, state: 'Running', host, port: 5432, layerKey: K, currentKey: K });

    // Every connection to the sandbox was ended; a new one finds the layer's rows and not the learner's table.
    await expect(learner.query('SELECT 1')).rejects.toThrow();
    await learner.end().catch(() => undefined);
    const after = await connect(host, 5432, 'learner');
    expect((await after.query('SELECT n, label FROM items ORDER BY n')).rows).toEqual([
      { n: 1, label: 'one' },
      { n: 2, label: 'two' },
    ]);
    expect((await after.query(`SELECT to_regclass('mine') AS t`)).rows[0].t).toBeNull();
    // The learner may not copy the template either (not its owner, NOCREATEDB).
    await expect(after.query(`CREATE DATABASE mine TEMPLATE ${TEMPLATE_DATABASE}`)).rejects.toMatchObject({
      code: '42501',
    });
    await after.end();

    // The same instance, Pod and server: nothing was started for it.
    const pods = (await core.listNamespacedPod({ namespace, labelSelector: `${INSTANCE_LABEL}=${info.id}` })).items;
    expect(pods.map((p) => p.metadata?.uid)).toEqual([pod.metadata?.uid]);
    expect((await admin.query('SELECT pg_postmaster_start_time()::text AS at')).rows[0].at).toBe(startedAt);
    await admin.end();
    expect((await resource(info.id)).metadata.annotations?.['taidon.dev/current-key']).toBe(K);

    // The learner's role cannot connect to the template database (no pg_hba line for it).
    await expect(connect(host, 5432, 'learner', TEMPLATE_DATABASE)).rejects.toMatchObject({ code: '28000' });

    // A reset to another key is refused and changes nothing; a second reset to K works.
    const learner2 = await connect(host, 5432, 'learner');
    await learner2.query(`INSERT INTO items VALUES (4, 'four')`);
    const other = await inject('POST', `/instances/${info.id}/reset`, { key: key() });
    expect(other.statusCode).toBe(409);
    expect(other.json()).toMatchObject({ code: 'ENV_MANAGER_TEMPLATE_UNAVAILABLE' });
    expect((await learner2.query('SELECT count(*)::int AS n FROM items')).rows[0].n).toBe(3);
    const again = await inject('POST', `/instances/${info.id}/reset`, { key: K });
    expect(again.statusCode, again.body).toBe(200);
    await learner2.end().catch(() => undefined);
    const learner3 = await connect(host, 5432, 'learner');
    expect((await learner3.query('SELECT count(*)::int AS n FROM items')).rows[0].n).toBe(2);
    await learner3.end();

    const metrics = await envManager.app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toMatch(/^taidon_instance_template_resets_total\{service="env-manager"\} 2$/m);

    // Not there: 404.
    const missing = await inject('POST', '/instances/00000000-0000-4000-8000-000000000000/reset', { key: K });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ code: 'ENV_MANAGER_INSTANCE_NOT_FOUND' });

    // A Suspended instance (its Pod gone, its server with it, as its container would stop) is not reset.
    await server.stop();
    expect((await inject('POST', `/instances/${info.id}/suspend`)).statusCode).toBe(200);
    const suspended = await inject('POST', `/instances/${info.id}/reset`, { key: K });
    expect(suspended.statusCode).toBe(409);
    expect(suspended.json()).toMatchObject({ code: 'ENV_MANAGER_INVALID_STATE', state: 'Suspended' });
    expect((await inject('DELETE', `/instances/${info.id}`)).statusCode).toBe(200);
  }, 240_000);

  it("checkpoints a running instance's server before its node's agent takes a layer of it: the layer holds that checkpoint, and its clone starts with the learner's rows", async () => {
    const creating = inject('POST', '/instances', {
      ownerId: 'learner-2',
      ownerRole: 'learner',
      sessionId: 'session-2',
      layerKey: K,
      layerKeys: [K],
    });
    const { pod, server } = await runNextPod();
    const created = await creating;
    expect(created.statusCode, created.body).toBe(201);
    const info = created.json();
    const host = pod.status?.podIP ?? '';

    // The learner's statements (the runner asks for a layer between them), then where the WAL is.
    const learner = await connect(host, 5432, 'learner');
    await learner.query(`INSERT INTO items VALUES (10, 'learner');
                         CREATE TABLE notes AS SELECT g AS n, repeat('x', 200) AS pad FROM generate_series(1, 5000) g`);
    const admin = await connect(host, 5432, 'admin');
    const written = (await admin.query('SELECT pg_current_wal_insert_lsn()::text AS lsn')).rows[0].lsn as string;
    const requested = async () =>
      Number((await admin.query('SELECT num_requested FROM pg_stat_checkpointer')).rows[0].num_requested);
    const requestedBefore = await requested();
    const startedAt = (await admin.query('SELECT pg_postmaster_start_time()::text AS at')).rows[0].at;

    const K2 = key();
    const layer = await inject('POST', `/instances/${info.id}/layers`, {
      key: K2,
      parentKey: K,
      stepCount: 2,
      buildMs: 5,
    });
    expect(layer.statusCode, layer.body).toBe(201);
    expect(layer.json()).toMatchObject({ layer: { key: K2 }, instance: { id: info.id, state: 'Running', host } });
    // The server was asked for a checkpoint, and its latest one is past the learner's writes.
    expect(await requested()).toBeGreaterThan(requestedBefore);
    const checkpoint = (await admin.query('SELECT checkpoint_lsn::text AS lsn FROM pg_control_checkpoint()')).rows[0]
      .lsn as string;
    expect(lsn(checkpoint) > lsn(written), `${checkpoint} after ${written}`).toBe(true);
    // It kept running through the layer (an atomic driver: no suspend), the learner's connection with it.
    expect((await admin.query('SELECT pg_postmaster_start_time()::text AS at')).rows[0].at).toBe(startedAt);
    expect((await learner.query('SELECT count(*)::int AS n FROM items')).rows[0].n).toBe(3);
    await learner.end();
    await admin.end();

    // A new instance of the chain is cloned from K2. Before any server runs on its clone, the clone's control
    // file is the layer's: a running server's (not shut down), whose latest checkpoint is the one just made,
    // so the snapshot was taken after it.
    let control: Awaited<ReturnType<typeof controlFile>> | undefined;
    const creating2 = inject('POST', '/instances', {
      ownerId: 'learner-3',
      ownerRole: 'learner',
      sessionId: 'session-3',
      layerKey: K2,
      layerKeys: [K, K2],
    });
    const next = await runNextPod(async (path) => {
      control = await controlFile(path);
      // The clone carries the running server's postmaster.pid. In a Pod, PostgreSQL is PID 1 of its own PID
      // namespace, as the source's was, and takes that file for its own stale one; the test's servers share
      // this host's PID namespace, where the source server still runs, so the file goes as the Pod would see it.
      await rm(join(path, 'postmaster.pid'));
    });
    const created2 = await creating2;
    expect(created2.statusCode, created2.body).toBe(201);
    expect(created2.json()).toMatchObject({ layerKey: K2, source: 'clone' });
    expect(control).toEqual({ state: DB_IN_PRODUCTION, checkpoint: lsn(checkpoint) });

    // Its server replayed from that checkpoint and answers with the learner's rows.
    const host2 = next.pod.status?.podIP ?? '';
    expect(host2).not.toBe(host);
    const learner2 = await connect(host2, 5432, 'learner');
    expect((await learner2.query('SELECT n, label FROM items ORDER BY n')).rows).toEqual([
      { n: 1, label: 'one' },
      { n: 2, label: 'two' },
      { n: 10, label: 'learner' },
    ]);
    expect(
      (await learner2.query('SELECT count(*)::int AS n, sum(length(pad))::int AS bytes FROM notes')).rows[0],
    ).toEqual({
      n: 5000,
      bytes: 5000 * 200,
    });
    await learner2.end();

    // Their containers stop with their Pods.
    for (const [id, s] of [
      [info.id, server],
      [created2.json().id, next.server],
    ] as const) {
      await s.stop();
      expect((await inject('DELETE', `/instances/${id}`)).statusCode).toBe(200);
    }
  }, 240_000);
});
