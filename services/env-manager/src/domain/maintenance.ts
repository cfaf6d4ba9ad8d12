import { join, relative } from 'node:path';
import type pg from 'pg';
import { InvalidStateError } from '../errors.js';
import type { Runtime } from '../runtimes/runtime.js';
import {
  getInstance,
  listExpiredSuspended,
  listExpiredThrowaway,
  listIdleInstances,
  listInstances,
  listStuckInstances,
} from '../store/instances.js';

/** States of an instance that has (or is making, or removing) a volume and perhaps a server. */
const TRACKED: readonly InstanceState[] = ['Pending', 'Creating', 'Running', 'Suspended', 'Deleting'];
/** States in which a start or a stop is in flight: the process is its owner's until it records it. */
const IN_FLIGHT: readonly string[] = ['Pending', 'Creating', 'Deleting'];

import type { InstanceManager } from './instances.js';
import type { InstanceState } from './states.js';

/** What one TTL pass did. */
export interface TtlSummary {
  suspended: string[];
  deleted: string[];
}

/**
 * Idle TTL: Running instances of anonymous owners unused for `idleSeconds`
 * are suspended (their memory freed, their volume kept); Suspended
 * instances older than `suspendedSeconds` are deleted with their volume;
 * throwaway instances (owner role `throwaway`) older than `throwawaySeconds`
 * are deleted whatever their state, so a clone whose runner died is not kept.
 */
export async function expireInstances(
  manager: InstanceManager,
  pool: pg.Pool,
  ttl: { idleSeconds: number; suspendedSeconds: number; throwawaySeconds?: number },
): Promise<TtlSummary> {
  const summary: TtlSummary = { suspended: [], deleted: [] };
  for (const row of await listIdleInstances(pool, ttl.idleSeconds)) {
    if (manager.busy.has(row.id)) continue;
    if (await movedOn(manager.suspend(row.id, `idle for more than ${ttl.idleSeconds} s`))) continue;
    summary.suspended.push(row.id);
  }
  for (const row of await listExpiredSuspended(pool, ttl.suspendedSeconds)) {
    if (manager.busy.has(row.id)) continue;
    if (await movedOn(manager.delete(row.id, `suspended for more than ${ttl.suspendedSeconds} s`))) continue;
    summary.deleted.push(row.id);
  }
  if (ttl.throwawaySeconds === undefined) return summary;
  for (const row of await listExpiredThrowaway(pool, ttl.throwawaySeconds)) {
    if (manager.busy.has(row.id)) continue;
    if (await movedOn(manager.delete(row.id, `throwaway for more than ${ttl.throwawaySeconds} s`))) continue;
    summary.deleted.push(row.id);
  }
  return summary;
}

/**
 * Whether the instance left the state it was listed in before the operation
 * reached it (a learner's delete or resume in between): not an error, and the
 * pass goes on with the others.
 */
async function movedOn(operation: Promise<unknown>): Promise<boolean> {
  try {
    await operation;
    return false;
  } catch (error) {
    if (error instanceof InvalidStateError) return true;
    throw error;
  }
}

/** What one reconcile pass repaired. */
export interface ReconcileSummary {
  /** Records whose server was gone after a crash, now Failed. */
  failed: string[];
  /** Records whose server was gone after a clean stop (its owner, the spawner, exited): Suspended, or deleted if pooled. */
  settled: string[];
  /** Servers on our volumes that no record accounts for, killed (pids). */
  killedOrphans: number[];
  /** Records stuck in Pending, Creating or Deleting, now Failed. */
  stuck: string[];
}

function isUnder(path: string, root: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith('..') && !rel.startsWith('/'));
}

/**
 * Repairs drift between records and processes: a Running record whose
 * server died is marked Failed (not restarted: its data may be what crashed
 * it, and the runner rebuilds state from layers anyway), or Suspended when it
 * stopped cleanly (see InstanceManager.settleGone); a postmaster on one
 * of our volumes that no live record owns is killed; records stuck in a
 * transitional state past `stuckMs` are marked Failed. Instances with an
 * operation in flight are left alone.
 */
export async function reconcile(
  manager: InstanceManager,
  deps: {
    pool: pg.Pool;
    runtime: Runtime;
    stuckMs: number;
    /** Look for orphan servers too (default true): that reads the command line of every process on the machine. */
    scanOrphans?: boolean;
  },
): Promise<ReconcileSummary> {
  const summary: ReconcileSummary = { failed: [], settled: [], killedOrphans: [], stuck: [] };
  const rows = await listInstances(deps.pool, { states: TRACKED });
  for (const row of rows) {
    if (manager.busy.has(row.id) || row.state !== 'Running' || row.pid === null) continue;
    if (deps.runtime.isAlive(row.pid)) continue;
    const now = await manager.busy.run(row.id, () => manager.settleGone(row, `server process ${row.pid} is gone`));
    (now.state === 'Failed' ? summary.failed : summary.settled).push(row.id);
  }
  const rootDir = (await manager.driver()).rootDir;
  const servers = deps.scanOrphans === false ? [] : await deps.runtime.listServers();
  // The owners are read after the scan: an instance started, resumed or restarted since the first read owns
  // the server it now runs (under load, a warm-pool refill or a resume finished in between, and its server
  // was killed as an orphan while the learner used it).
  const owners = new Map<string, (typeof rows)[number]>();
  if (servers.length > 0) {
    for (const row of await listInstances(deps.pool, { states: TRACKED })) {
      if (row.volumePath) owners.set(row.volumePath, row);
    }
  }
  for (const server of servers) {
    const owner = owners.get(server.dataDir);
    if (!owner && !isUnder(server.dataDir, join(rootDir, '/'))) continue; // not on our volumes
    if (owner?.state === 'Running' && owner.pid === server.pid) continue;
    // A start or stop in flight owns its process until it records it.
    if (owner && (manager.busy.has(owner.id) || IN_FLIGHT.includes(owner.state))) continue;
    if (owner) {
      // Decided under the instance's lock on its record as it is now, so no start or resume can finish between.
      const killed = await manager.busy.run(owner.id, async () => {
        const now = await getInstance(deps.pool, owner.id);
        if (now && ((now.state === 'Running' && now.pid === server.pid) || IN_FLIGHT.includes(now.state))) return false;
        await deps.runtime.kill(owner.id, server.pid);
        return true;
      });
      if (killed) summary.killedOrphans.push(server.pid);
      continue;
    }
    await deps.runtime.kill(`orphan-${server.pid}`, server.pid);
    summary.killedOrphans.push(server.pid);
  }
  for (const row of await listStuckInstances(deps.pool, deps.stuckMs)) {
    if (manager.busy.has(row.id)) continue;
    if (row.pid !== null && deps.runtime.isAlive(row.pid)) await deps.runtime.kill(row.id, row.pid);
    await manager.fail(row, [row.state], `stuck in ${row.state} for more than ${deps.stuckMs} ms`);
    summary.stuck.push(row.id);
  }
  return summary;
}
