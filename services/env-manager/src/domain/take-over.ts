import type pg from 'pg';
import type { Runtime } from '../runtimes/runtime.js';
import { type InstanceRow, listInstances, updateInstance } from '../store/instances.js';
import type { InstanceManager } from './instances.js';

/** What taking over did. */
export interface TakeOverSummary {
  /** Learners' instances whose server stopped cleanly: Suspended, resumed from their volume by their next run. */
  suspended: string[];
  /** Pooled instances, and creations or deletions left unfinished: deleted with their volumes. */
  deleted: string[];
  /** Instances whose server did not stop cleanly (it crashed, or was killed): Failed. */
  failed: string[];
  /** Servers of the previous env-manager still running (shutting down, or never told): stopped here (pids). */
  stopped: number[];
  /** Instances that could not be taken over, with why; reconcile and the TTLs deal with them later. */
  errors: { id: string; message: string }[];
}

const REASON = 'env-manager restarted';

/**
 * Takes over what the previous env-manager on this machine left: its servers stop with it (ADR 0024), so every
 * instance it recorded as Running, Pending, Creating or Deleting is settled here, once, at start. A server still
 * running (shutting down, or started where it could not be bound to its owner) is stopped cleanly first; then a
 * learner's instance that stopped cleanly is Suspended (its next run resumes it with its data), a pooled one is
 * deleted (the pool refills), one that did not stop cleanly is Failed, and a creation or deletion nobody waits
 * for any more is deleted. Resolves once every such instance's lock is held, so an operation on one (a resume)
 * waits for it: call it before the service answers. `settled` resolves when all are done; it never rejects.
 */
export async function takeOver(
  manager: InstanceManager,
  deps: { pool: pg.Pool; runtime: Runtime },
): Promise<{ settled: Promise<TakeOverSummary> }> {
  const summary: TakeOverSummary = { suspended: [], deleted: [], failed: [], stopped: [], errors: [] };
  const rows = await listInstances(deps.pool, { states: ['Pending', 'Creating', 'Running', 'Deleting'] });
  if (rows.length === 0) return { settled: Promise.resolve(summary) };
  // Servers by the data directory they serve: a recorded pid may belong to another process by now, and a
  // creation in flight had no pid on record yet.
  const servers = deps.runtime.listServers().then((found) => new Map(found.map((s) => [s.dataDir, s.pid])));
  servers.catch(() => {});

  async function takeOne(row: InstanceRow): Promise<void> {
    const pid = row.volumePath === null ? undefined : (await servers).get(row.volumePath);
    if (pid !== undefined) {
      await deps.runtime.stop(row.id, pid);
      summary.stopped.push(pid);
    }
    if (row.state === 'Running') {
      // The recorded pid is stale either way: never signalled again.
      const stale = await updateInstance(deps.pool, row.id, ['Running'], { pid: null });
      const now = await manager.settleGone(stale ?? row, `${REASON}; its server stopped with the previous one`);
      (now.state === 'Suspended' ? summary.suspended : now.state === 'Deleted' ? summary.deleted : summary.failed).push(
        row.id,
      );
      return;
    }
    if (row.state !== 'Deleting') await manager.fail(row, [row.state], `${REASON} during ${row.state}`);
    await manager.deleteHeld(row.id, `${REASON}: nobody waits for this ${row.state} instance any more`);
    summary.deleted.push(row.id);
  }

  // Each lock is taken now (busy.run registers it at once), before the caller goes on to serve.
  const settled = Promise.allSettled(
    rows.map((row) =>
      manager.busy.run(row.id, () =>
        takeOne(row).catch((error: unknown) => {
          summary.errors.push({ id: row.id, message: error instanceof Error ? error.message : String(error) });
        }),
      ),
    ),
  ).then(() => summary);
  return { settled };
}
