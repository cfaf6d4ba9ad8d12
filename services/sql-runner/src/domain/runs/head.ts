import type { Chain } from '../chain/index.js';
import { cancelRun, type RunnerDeps, type RunState } from './context.js';
import { diskRefusalEvent, guardDiskUse, refusedForDisk, statementErrorEvent } from './disk-guard.js';
import { isServerError } from './errors.js';
import { executeStep, forwardNotices } from './execute.js';
import type { StartState } from './start-state/index.js';

/** 'I' idle, 'T' in a transaction block, 'E' in a failed one (from the server's last ReadyForQuery). */
function transactionStatus(state: StartState): string | null {
  return (state.connection.learner as unknown as { getTransactionStatus(): string | null }).getTransactionStatus();
}

/** How the head ended: the key the instance is now at (null when unknown), and why it stopped early. */
export interface HeadResult {
  key: string | null;
  failed: string | null;
  cancelled: boolean;
}

/**
 * Executes the head's statements on the run's instance, one after the other, each under the wall-clock and
 * disk guards, until one fails or the run is cancelled; a statement's server error is its `error` event.
 * Any other error (the connection ended) is thrown: the run reports it as a failure of the execute phase.
 */
export async function executeHead(
  deps: RunnerDeps,
  run: RunState,
  state: StartState,
  head: Chain,
): Promise<HeadResult> {
  const started = performance.now();
  run.phase = 'execute';
  run.emit({ type: 'progress', phase: 'execute' });
  const result: HeadResult = { key: state.key, failed: null, cancelled: false };
  const emit = run.statementEmit();
  for (const step of head.steps) {
    if (run.cancelled) {
      result.cancelled = true;
      break;
    }
    if (await refusedForDisk(state.connection, deps.databaseMaxBytes, step.kind)) {
      // Not run: the state is the last statement's.
      const event = diskRefusalEvent(step, 'execute', step.index, deps.databaseMaxBytes);
      run.emit(event);
      result.failed = event.sqlstate;
      break;
    }
    const guard = setTimeout(() => void cancelRun(run, 'timeout'), deps.statementTimeoutMs);
    run.cancelInFlight = () => state.connection.cancel();
    const disk = guardDiskUse(state.connection, deps.databaseMaxBytes, step.kind);
    state.connection.onNotice = forwardNotices(emit, step.index);
    try {
      await executeStep(state.connection.learner, step, step.index, emit, deps.limits, state.connection.types);
      if (state.key !== null) result.key = step.key;
    } catch (error) {
      if (!isServerError(error)) throw error;
      // Outside a transaction block a failed or cancelled statement leaves no
      // trace, so the key stays that of the last success; inside one the state is unknown.
      if (transactionStatus(state) !== 'I') result.key = null;
      if (run.cancelled) {
        result.cancelled = true;
      } else {
        const event = statementErrorEvent(error, step, 'execute', step.index, disk);
        run.emit(event);
        result.failed = event.sqlstate;
      }
      break;
    } finally {
      disk.stop();
      clearTimeout(guard);
      run.cancelInFlight = undefined;
      state.connection.onNotice = undefined;
    }
  }
  run.timings.executeMs = Math.round(performance.now() - started);
  deps.metrics?.headSeconds.observe(run.timings.executeMs / 1000);
  return result;
}
