import { join, relative } from 'node:path';
import type pg from 'pg';
import { InvalidStateError } from '../errors.js';
import type { Runtime } from '../runtimes/runtime.js';
import { listExpiredSuspended, listIdleInstances, listInstances, listStuckInstances } from '../store/instances.js';
import type { InstanceManager } from './instances.js';

/** What one TTL pass did. */
export interface TtlSummary {
  suspended: string[];
  deleted: string[];
}

/**
 * Idle TTL: Running instances of anonymous owners unused for `idleSeconds`
 * are suspended (their memory freed, their volume kept); Suspended
 * instances older than `suspendedSeconds` are deleted with their volume.
 */
export async function expireInstances(
  manager: InstanceManager,
  pool: pg.Pool,
  ttl: { idleSeconds: number; suspendedSeconds: number },
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
  const rows = await listInstances(deps.pool, { states: ['Pending', 'Creating', 'Running', 'Suspended', 'Deleting'] });
  const expected = new Map<number, string>();
  const byPath = new Map<string, (typeof rows)[number]>();
  for (const row of rows) {
    if (row.volumePath) byPath.set(row.volumePath, row);
    if (manager.busy.has(row.id) || row.state !== 'Running' || row.pid === null) continue;
    if (deps.runtime.isAlive(row.pid)) {
      expected.set(row.pid, row.id);
      continue;
    }
    const now = await manager.busy.run(row.id, () => manager.settleGone(row, `server process ${row.pid} is gone`));
    (now.state === 'Failed' ? summary.failed : summary.settled).push(row.id);
  }
  const rootDir = (await manager.driver()).rootDir;
  for (const server of deps.scanOrphans === false ? [] : await deps.runtime.listServers()) {
    const owner = byPath.get(server.dataDir);
    if (!owner && !isUnder(server.dataDir, join(rootDir, '/'))) continue; // not on our volumes
    if (expected.get(server.pid) === owner?.id && owner) continue;
    // A start or stop in flight owns its process until it records it.
    if (owner && (manager.busy.has(owner.id) || ['Pending', 'Creating', 'Deleting'].includes(owner.state))) continue;
    await deps.runtime.kill(owner?.id ?? `orphan-${server.pid}`, server.pid);
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
