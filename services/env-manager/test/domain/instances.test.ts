import { existsSync } from 'node:fs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectionInfo, InstanceManager } from '../../src/domain/instances.js';
import { expireInstances, reconcile } from '../../src/domain/maintenance.js';
import { WarmPool } from '../../src/domain/warm-pool.js';
import { processTree, pssBytes } from '../../src/runtimes/proc.js';
import { listTransitions } from '../../src/store/instances.js';
import { createStack, randomKey, type Stack } from '../helpers/stack.js';

let stack: Stack;

async function learner(info: { port: number }): Promise<pg.Client> {
  const client = new pg.Client({ host: '127.0.0.1', port: info.port, user: 'learner', database: 'sandbox' });
  await client.connect();
  return client;
}

async function query(info: { port: number }, sql: string): Promise<unknown[]> {
  const client = await learner(info);
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

function gone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
}

beforeAll(async () => {
  stack = await createStack();
});

/**
 * The stack's instance manager, whose `method` is held on every call until `release()`; `reached` resolves at
 * the first call (to act while the caller is held at that point).
 */
function managerHeld(method: 'delete' | 'startNew'): {
  manager: InstanceManager;
  reached: Promise<void>;
  release: () => void;
} {
  let reach = () => {};
  const reached = new Promise<void>((resolve) => {
    reach = resolve;
  });
  let release = () => {};
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  const manager = new Proxy(stack.manager, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (typeof value !== 'function') return value;
      if (prop !== method) return value.bind(target);
      return async (...args: unknown[]) => {
        reach();
        await released;
        return value.apply(target, args);
      };
    },
  });
  return { manager, reached, release };
}

afterAll(async () => {
  await stack?.close();
});

describe('instances on a real snapshot-cache', () => {
  let template: ConnectionInfo;
  let layerKey: string;

  it('creates an instance from the template, answering its connection info', async () => {
    template = await stack.manager.create({ ownerId: 'owner-1', ownerRole: 'anonymous', layerKey: null });
    console.log(`create from template: ${template.readyMs} ms`);
    expect(template).toMatchObject({ state: 'Running', source: 'template', database: 'sandbox', user: 'learner' });
    await query(template, "CREATE TABLE fruit (name text); INSERT INTO fruit VALUES ('apple')");
    const tree = await processTree((await stack.manager.row(template.id)).pid as number);
    console.log(
      `idle tuned instance: ${tree.length} processes, PSS ${((await pssBytes(tree)) / 1024 / 1024).toFixed(1)} MiB`,
    );
  });

  it('takes a layer of it and starts a new instance from that layer that sees the data', async () => {
    layerKey = randomKey();
    const snap = await stack.manager.snapshot(template.id, {
      key: layerKey,
      parentKey: null,
      stepCount: 2,
      buildMs: 5,
    });
    console.log(`snapshot (copy driver: stop, copy, start): ${snap.snapshotMs.toFixed(1)} ms`);
    expect(snap.layer.key).toBe(layerKey);
    expect(snap.instance.state).toBe('Running');
    // The instance kept working after the snapshot, at its address.
    expect(await query({ port: snap.instance.port as number }, 'SELECT name FROM fruit')).toEqual([{ name: 'apple' }]);
    const clone = await stack.manager.create({ ownerId: 'owner-2', layerKey });
    console.log(`create from a layer (clone + start): ${clone.readyMs} ms`);
    expect(clone.source).toBe('clone');
    expect(clone.layerKey).toBe(layerKey);
    expect(await query(clone, 'SELECT name FROM fruit')).toEqual([{ name: 'apple' }]);
    await stack.manager.delete(clone.id);
  });

  it('answers 404 ENV_MANAGER_LAYER_NOT_FOUND for a layer snapshot-cache does not have', async () => {
    await expect(stack.manager.create({ ownerId: 'o', layerKey: randomKey() })).rejects.toMatchObject({
      code: 'ENV_MANAGER_LAYER_NOT_FOUND',
      statusCode: 404,
    });
  });

  it('suspends (no process left) and resumes with the learner data kept', async () => {
    const info = await stack.manager.create({ ownerId: 'owner-3', layerKey });
    await query(info, "INSERT INTO fruit VALUES ('pear')");
    const pid = (await stack.manager.row(info.id)).pid as number;
    let t = performance.now();
    const suspended = await stack.manager.suspend(info.id);
    console.log(`suspend: ${(performance.now() - t).toFixed(1)} ms`);
    expect(suspended).toMatchObject({ state: 'Suspended', port: null });
    expect(gone(pid)).toBe(true);
    t = performance.now();
    const resumed = await stack.manager.resume(info.id);
    console.log(`resume: ${(performance.now() - t).toFixed(1)} ms (ready ${resumed.readyMs} ms)`);
    expect(resumed).toMatchObject({ state: 'Running', source: 'resume' });
    expect(await query(resumed, 'SELECT name FROM fruit ORDER BY name')).toEqual([{ name: 'apple' }, { name: 'pear' }]);
    const transitions = (await listTransitions(stack.pool, info.id)).map((x) => `${x.from}→${x.to}`);
    expect(transitions).toEqual([
      'null→Pending',
      'Pending→Creating',
      'Creating→Running',
      'Running→Suspended',
      'Suspended→Running',
    ]);
  });

  it('suspends an idle anonymous instance after its TTL, and resume brings its data back', async () => {
    const info = await stack.manager.create({ ownerId: 'anon', ownerRole: 'anonymous', layerKey });
    const other = await stack.manager.create({ ownerId: 'registered', ownerRole: 'learner', layerKey });
    await query(info, "INSERT INTO fruit VALUES ('plum')");
    await stack.pool.query(`UPDATE instances SET last_used_at = now() - interval '1 hour' WHERE id = ANY($1)`, [
      [info.id, other.id],
    ]);
    const summary = await expireInstances(stack.manager, stack.pool, { idleSeconds: 60, suspendedSeconds: 86_400 });
    expect(summary.suspended).toEqual([info.id]);
    expect((await stack.manager.get(info.id)).state).toBe('Suspended');
    expect((await stack.manager.get(other.id)).state).toBe('Running');
    const resumed = await stack.manager.resume(info.id);
    expect(await query(resumed, "SELECT name FROM fruit WHERE name = 'plum'")).toEqual([{ name: 'plum' }]);
    // Suspended long enough, it is deleted with its volume.
    await stack.manager.suspend(info.id);
    const volumePath = (await stack.manager.row(info.id)).volumePath as string;
    await stack.pool.query(`UPDATE instances SET suspended_at = now() - interval '2 days' WHERE id = $1`, [info.id]);
    const later = await expireInstances(stack.manager, stack.pool, { idleSeconds: 60, suspendedSeconds: 86_400 });
    expect(later.deleted).toEqual([info.id]);
    expect(existsSync(volumePath)).toBe(false);
    await stack.manager.delete(other.id);
  });

  it('deletes a throwaway instance once its TTL from creation has passed, and no other', async () => {
    const throwaway = await stack.manager.create({ ownerId: 'throwaway:acct', ownerRole: 'throwaway', layerKey });
    const young = await stack.manager.create({ ownerId: 'throwaway:acct', ownerRole: 'throwaway', layerKey });
    const learnerOwned = await stack.manager.create({ ownerId: 'registered', ownerRole: 'learner', layerKey });
    const pid = (await stack.manager.row(throwaway.id)).pid as number;
    const volumePath = (await stack.manager.row(throwaway.id)).volumePath as string;
    await stack.pool.query(`UPDATE instances SET created_at = now() - interval '11 minutes' WHERE id = ANY($1)`, [
      [throwaway.id, learnerOwned.id],
    ]);
    const ttl = { idleSeconds: 60, suspendedSeconds: 86_400, throwawaySeconds: 600 };
    const summary = await expireInstances(stack.manager, stack.pool, ttl);
    expect(summary.deleted).toEqual([throwaway.id]);
    expect((await stack.manager.get(throwaway.id)).state).toBe('Deleted');
    expect(gone(pid)).toBe(true);
    expect(existsSync(volumePath)).toBe(false);
    expect((await stack.manager.get(young.id)).state).toBe('Running');
    expect((await stack.manager.get(learnerOwned.id)).state).toBe('Running');
    await stack.manager.delete(young.id);
    await stack.manager.delete(learnerOwned.id);
  });

  it('marks Failed, with the reason, a Running instance whose postmaster was SIGKILLed', async () => {
    const info = await stack.manager.create({ ownerId: 'owner-4', layerKey });
    const pid = (await stack.manager.row(info.id)).pid as number;
    const tree = await processTree(pid);
    for (const p of tree) process.kill(p, 'SIGKILL');
    while (stack.runtime.isAlive(pid)) await new Promise((r) => setTimeout(r, 2));
    const summary = await reconcile(stack.manager, { pool: stack.pool, runtime: stack.runtime, stuckMs: 300_000 });
    expect(summary.failed).toEqual([info.id]);
    const view = await stack.manager.get(info.id);
    expect(view.state).toBe('Failed');
    expect(view.transitions?.at(-1)).toMatchObject({
      from: 'Running',
      to: 'Failed',
      reason: `server process ${pid} is gone`,
    });
    await stack.manager.delete(info.id);
  });

  it('kills an orphan postgres on one of our volumes that no record owns', async () => {
    const volume = await stack.snapshotCache.createVolume({ fromLayerKey: layerKey });
    const orphan = await stack.runtime.start({
      instanceId: 'orphan-test',
      dataDir: volume.path,
      timeoutMs: 10_000,
    });
    const tree = await processTree(orphan.pid);
    const summary = await reconcile(stack.manager, { pool: stack.pool, runtime: stack.runtime, stuckMs: 300_000 });
    expect(summary.killedOrphans).toContain(orphan.pid);
    // Its children, orphaned at once, may stay zombies until init reaps them: not alive is enough.
    for (const pid of tree) expect(stack.runtime.isAlive(pid)).toBe(false);
    await stack.snapshotCache.deleteVolume(volume.id);
    await stack.runtime.forget('orphan-test');
  });

  it('leaves alone a server whose instance was resumed while the orphan scan read the processes', async () => {
    const info = await stack.manager.create({ ownerId: 'owner-resume-race', layerKey });
    await stack.manager.suspend(info.id);
    // The resume happens after reconcile read the records (Suspended, no pid) and before it sees the processes.
    const runtime = Object.create(stack.runtime) as typeof stack.runtime;
    runtime.listServers = async () => {
      await stack.manager.resume(info.id);
      return stack.runtime.listServers();
    };
    const summary = await reconcile(stack.manager, { pool: stack.pool, runtime, stuckMs: 300_000 });
    const row = await stack.manager.row(info.id);
    expect(row.state).toBe('Running');
    expect(summary.killedOrphans).not.toContain(row.pid);
    expect(stack.runtime.isAlive(row.pid as number)).toBe(true);
    await stack.manager.delete(info.id);
  });

  it('marks records stuck in Creating past the timeout as Failed', async () => {
    await stack.pool.query(
      `INSERT INTO instances (id, owner_id, state, state_changed_at) VALUES (gen_random_uuid(), 'x', 'Creating', now() - interval '1 hour')`,
    );
    const summary = await reconcile(stack.manager, { pool: stack.pool, runtime: stack.runtime, stuckMs: 60_000 });
    expect(summary.stuck).toHaveLength(1);
  });

  it('knows which keys a pool claim can find an instance of: none before a declaration, once seen by a pass', async () => {
    const warm = new WarmPool({ pool: stack.pool, manager: stack.manager, maxInstances: 4, minAvailableBytes: 0 });
    const key = randomKey();
    expect(warm.mayHave(key)).toBe(true); // before any pass: unknown, so claim
    await warm.fill();
    expect(warm.mayHave(key)).toBe(false);
    expect(warm.mayHave('template')).toBe(false);
    // Declared here: known at once (its refill fails, the layer does not exist; the demand stays).
    await warm.setDemand(key, 1);
    expect(warm.mayHave(key)).toBe(true);
    await warm.settled();
    await warm.fill();
    expect(warm.mayHave(key)).toBe(true);
    await warm.setDemand(key, 0);
    await warm.stop();
    expect(warm.mayHave(key)).toBe(false);
  });

  it('never deletes a pooled instance a learner took while the pool was shrinking: the learner keeps it', async () => {
    // The pool's deletes wait, once started, until the learner's take is done: the interleaving seen under load.
    const { manager, reached: deleting, release: takeDone } = managerHeld('delete');
    const warm = new WarmPool({ pool: stack.pool, manager, maxInstances: 4, minAvailableBytes: 0 });
    await warm.setDemand('template', 2);
    await warm.settled();
    const pooled = await stack.manager.pooled();
    expect(pooled.filter((p) => p.poolKey === 'template')).toHaveLength(2);
    await warm.setDemand('template', 0);
    await deleting;
    const learnerInfo = await stack.manager.create({ ownerId: 'late-learner', ownerRole: 'anonymous', layerKey: null });
    takeDone();
    await warm.settled();
    await warm.stop();
    const row = await stack.manager.row(learnerInfo.id);
    expect(row).toMatchObject({ state: 'Running', ownerId: 'late-learner' });
    expect(await query(learnerInfo, 'SELECT 1 AS one')).toEqual([{ one: 1 }]);
    for (const p of pooled) expect((await stack.manager.row(p.id)).state).toBe('Deleted');
    await stack.manager.delete(learnerInfo.id);
  });

  it('stops a pass from starting what a demand lowered during it no longer asks for', async () => {
    // The pass's first start is held until the demand is lowered: a class arrived while its pool was filling.
    const { manager, reached: starting, release: lowered } = managerHeld('startNew');
    const since = (await stack.pool.query<{ t: Date }>('SELECT now() AS t')).rows[0]?.t;
    const warm = new WarmPool({ pool: stack.pool, manager, maxInstances: 8, minAvailableBytes: 0 });
    await warm.setDemand('template', 5);
    await starting;
    await warm.setDemand('template', 1);
    lowered();
    await warm.settled();
    // One server started, none started only to be deleted (the pass used to start all five, then delete four).
    const { rows } = await stack.pool.query<{ state: string }>(
      `SELECT state FROM instances WHERE pool_key = 'template' AND created_at >= $1`,
      [since],
    );
    expect(rows.map((r) => r.state)).toEqual(['Running']);
    await warm.setDemand('template', 0);
    await warm.settled();
    await warm.stop();
    const after = await stack.pool.query<{ state: string }>(
      `SELECT state FROM instances WHERE pool_key = 'template' AND created_at >= $1`,
      [since],
    );
    expect(after.rows.map((r) => r.state)).toEqual(['Deleted']);
  });

  it('deletes an instance: process gone, volume removed, record Deleted', async () => {
    const row = await stack.manager.row(template.id);
    const deleted = await stack.manager.delete(template.id);
    expect(deleted.state).toBe('Deleted');
    expect(gone(row.pid as number)).toBe(true);
    expect(existsSync(row.volumePath as string)).toBe(false);
    await expect(stack.manager.resume(template.id)).rejects.toMatchObject({ code: 'ENV_MANAGER_INVALID_STATE' });
  });
});
