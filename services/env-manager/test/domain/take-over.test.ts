import { existsSync } from 'node:fs';
import { Spawner } from '@taidon/kit';
import { captureLogger } from '@taidon/kit/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { templateSettings } from '../../src/app.js';
import { InstanceManager } from '../../src/domain/instances.js';
import { reconcile } from '../../src/domain/maintenance.js';
import { takeOver } from '../../src/domain/take-over.js';
import { createEnvManagerMetrics } from '../../src/metrics.js';
import { createLocalRuntime } from '../../src/runtimes/local.js';
import { insertInstance, listTransitions, updateInstance } from '../../src/store/instances.js';
import { createStack, randomKey, type Stack } from '../helpers/stack.js';

let stack: Stack;

/**
 * An env-manager that came before this one: the same database and run directory, its servers started through its
 * own spawner (`null`: from this process, as where its servers could not be bound to it). `exit` is its process
 * going away, however it goes: its spawner exits.
 */
async function previousEnvManager(spawner: Spawner | null) {
  const runtime = await createLocalRuntime({
    runDir: stack.config.INSTANCE_RUN_DIR,
    limits: { memoryMaxBytes: 256 * 1024 ** 2, pidsMax: 64, cpuMax: '100000 100000' },
    logger: captureLogger('previous').logger,
    cgroupRoots: [],
    spawner,
  });
  const manager = new InstanceManager({
    pool: stack.pool,
    runtime,
    snapshotCache: stack.snapshotCache,
    metrics: createEnvManagerMetrics(stack.pool),
    settings: templateSettings(stack.config),
    adminPassword: stack.config.SANDBOX_ADMIN_PASSWORD,
    startTimeoutMs: stack.config.INSTANCE_START_TIMEOUT_MS,
  });
  return { runtime, manager, exit: () => spawner?.close() };
}

async function query(port: number, sql: string): Promise<unknown[]> {
  const client = new pg.Client({ host: '127.0.0.1', port, user: 'learner', database: 'sandbox' });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

/** A learner's instance of the previous env-manager, with a row only this instance has (random()). */
async function learnerWithData(manager: InstanceManager, owner: string) {
  const info = await manager.create({ ownerId: owner, ownerRole: 'anonymous', layerKey: null });
  await query(info.port, 'CREATE TABLE t AS SELECT random() AS r');
  const [row] = await query(info.port, 'SELECT r FROM t');
  return { id: info.id, pid: (await stack.manager.row(info.id)).pid as number, row };
}

/** Postmasters serving one of this stack's volumes. */
async function serversOfStack(): Promise<number[]> {
  return (await stack.runtime.listServers()).filter((s) => s.dataDir.startsWith(stack.root)).map((s) => s.pid);
}

async function until(check: () => Promise<boolean> | boolean, timeoutMs: number): Promise<number> {
  const started = performance.now();
  while (!(await check())) {
    if (performance.now() - started > timeoutMs) throw new Error(`not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
  return performance.now() - started;
}

beforeAll(async () => {
  stack = await createStack();
});

afterAll(async () => {
  await stack?.close();
});

describe('an env-manager that exits', () => {
  it('leaves no server running: each stops cleanly with it, and the next one suspends, resumes and keeps the data', async () => {
    const previous = await previousEnvManager(new Spawner());
    const learners = [await learnerWithData(previous.manager, 'a'), await learnerWithData(previous.manager, 'b')];
    const pooled = await previous.manager.startNew({
      ownerId: null,
      ownerRole: null,
      sessionId: null,
      layerKey: null,
      pooled: true,
      poolKey: 'template',
    });
    expect(await serversOfStack()).toHaveLength(3);
    previous.exit();
    const ms = await until(async () => (await serversOfStack()).length === 0, 15_000);
    console.log(`3 servers stopped ${ms.toFixed(0)} ms after their env-manager's spawner exited`);
    for (const learner of learners) {
      expect(await stack.runtime.stoppedCleanly((await stack.manager.row(learner.id)).volumePath as string)).toBe(true);
    }

    const { settled } = await takeOver(stack.manager, { pool: stack.pool, runtime: stack.runtime });
    // Asked before the take-over is done: waits for it, then resumes from the volume.
    const started = performance.now();
    const resumed = await stack.manager.resume(learners[0]?.id as string);
    console.log(`first run after the restart: resumed in ${(performance.now() - started).toFixed(0)} ms`);
    const summary = await settled;
    expect(summary).toMatchObject({ failed: [], stopped: [], errors: [] });
    expect(summary.suspended.sort()).toEqual(learners.map((l) => l.id).sort());
    expect(summary.deleted).toEqual([pooled.id]);
    expect(resumed).toMatchObject({ state: 'Running', source: 'resume' });
    expect(await query(resumed.port, 'SELECT r FROM t')).toEqual([learners[0]?.row]);
    const second = await stack.manager.resume(learners[1]?.id as string);
    expect(await query(second.port, 'SELECT r FROM t')).toEqual([learners[1]?.row]);
    const transitions = await listTransitions(stack.pool, learners[1]?.id as string);
    expect(transitions.at(-2)).toMatchObject({ from: 'Running', to: 'Suspended' });
    expect(transitions.at(-2)?.reason).toMatch(/env-manager restarted.*stopped cleanly/);
    expect((await stack.manager.row(pooled.id)).state).toBe('Deleted');
    expect(existsSync(pooled.volumePath as string)).toBe(false);
    for (const learner of learners) await stack.manager.delete(learner.id);
  });

  it('a resume before any take-over or reconcile restarts an instance whose server stopped with its owner', async () => {
    const previous = await previousEnvManager(new Spawner());
    const learner = await learnerWithData(previous.manager, 'c');
    previous.exit();
    await until(() => !stack.runtime.isAlive(learner.pid), 15_000);
    expect((await stack.manager.row(learner.id)).state).toBe('Running');
    const resumed = await stack.manager.resume(learner.id);
    expect(await query(resumed.port, 'SELECT r FROM t')).toEqual([learner.row]);
    await stack.manager.delete(learner.id);
  });

  it('reconcile suspends a Running instance whose server stopped cleanly, and fails one that was killed', async () => {
    const previous = await previousEnvManager(new Spawner());
    const clean = await learnerWithData(previous.manager, 'd');
    const killed = await learnerWithData(stack.manager, 'e');
    previous.exit();
    await stack.runtime.kill(killed.id, killed.pid);
    await until(() => !stack.runtime.isAlive(clean.pid), 15_000);
    const summary = await reconcile(stack.manager, { pool: stack.pool, runtime: stack.runtime, stuckMs: 300_000 });
    expect(summary.settled).toEqual([clean.id]);
    expect(summary.failed).toEqual([killed.id]);
    expect((await stack.manager.row(clean.id)).state).toBe('Suspended');
    for (const id of [clean.id, killed.id]) await stack.manager.delete(id);
  });

  it('stops at start what a previous env-manager left running, and deletes a creation it did not finish', async () => {
    // Servers of an env-manager that could not bind them to itself: still running when the next one starts.
    const previous = await previousEnvManager(null);
    const learner = await learnerWithData(previous.manager, 'f');
    const id = crypto.randomUUID();
    await insertInstance(stack.pool, {
      id,
      ownerId: 'g',
      ownerRole: null,
      sessionId: null,
      layerKey: null,
      pooled: false,
      poolKey: null,
      reason: 'requested',
      creatingReason: 'new template',
    });
    const volume = await stack.snapshotCache.createVolume({});
    await updateInstance(stack.pool, id, ['Creating'], { volumeId: volume.id, volumePath: volume.path });
    await previous.runtime.initdb(volume.path, 'x');
    const creating = await previous.runtime.start({ instanceId: id, dataDir: volume.path, timeoutMs: 30_000 });

    const { settled } = await takeOver(stack.manager, { pool: stack.pool, runtime: stack.runtime });
    const summary = await settled;
    expect(summary.stopped.sort()).toEqual([learner.pid, creating.pid].sort());
    expect(summary.suspended).toEqual([learner.id]);
    expect(summary.deleted).toEqual([id]);
    expect(await serversOfStack()).toEqual([]);
    expect((await stack.manager.get(id)).transitions?.map((t) => t.to)).toEqual([
      'Pending',
      'Creating',
      'Failed',
      'Deleting',
      'Deleted',
    ]);
    const resumed = await stack.manager.resume(learner.id);
    expect(await query(resumed.port, 'SELECT r FROM t')).toEqual([learner.row]);
    await stack.manager.delete(learner.id);
  });
});

describe('an env-manager that closes', () => {
  it('starts no server once closing: a stopped snapshot leaves its instance Suspended, a resume is refused', async () => {
    const manager = (await previousEnvManager(null)).manager;
    const learner = await learnerWithData(manager, 'h');
    manager.close();
    await expect(
      manager.startNew({
        ownerId: 'i',
        ownerRole: null,
        sessionId: null,
        layerKey: null,
        pooled: false,
        poolKey: null,
      }),
    ).rejects.toMatchObject({ code: 'ENV_MANAGER_SHUTTING_DOWN', statusCode: 503 });
    // The copy driver stops the server to take a layer; it is not started again.
    await expect(manager.snapshot(learner.id, { key: randomKey(), stepCount: 1, buildMs: 1 })).rejects.toMatchObject({
      code: 'ENV_MANAGER_SHUTTING_DOWN',
    });
    expect(stack.runtime.isAlive(learner.pid)).toBe(false);
    expect((await stack.manager.row(learner.id)).state).toBe('Suspended');
    await expect(manager.resume(learner.id)).rejects.toMatchObject({ code: 'ENV_MANAGER_SHUTTING_DOWN' });
    expect(await serversOfStack()).toEqual([]);
    await stack.manager.delete(learner.id);
  });
});
