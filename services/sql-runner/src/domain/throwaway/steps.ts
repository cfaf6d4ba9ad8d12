import type { RunEvent } from '@taidon/contracts';
import type { Step } from '../chain/index.js';
import type { RunnerDeps } from '../runs/context.js';
import { guardDiskUse, statementErrorEvent } from '../runs/disk-guard.js';
import { isServerError } from '../runs/errors.js';
import { executeStep } from '../runs/execute.js';
import type { ThrowawayClone } from './clones.js';

/** How a chain's steps ended on a throwaway clone. */
export type StepsOutcome =
  | { ok: true; statements: number }
  /** The client left before `step`: nothing more was sent. */
  | { ok: false; statements: number; step: Step; stopped: true }
  | {
      ok: false;
      statements: number;
      step: Step;
      stopped?: false;
      /** The statement's error as a run reports it (SQLSTATE, message, place; a full disk named). */
      error: ReturnType<typeof statementErrorEvent>;
      /** The runner's timer cancelled the statement (its own limit or the use's deadline, whichever came first). */
      timedOut: boolean;
      /** That timer was the use's deadline, not the statement's own limit. */
      pastDeadline: boolean;
    };

export interface StepsOptions {
  /** Each statement's own limit. */
  timeoutMs: number;
  /** When the clone's use ends (`performance.now()` time, THROWAWAY_USE_MAX_MS from its start). */
  deadline: number;
  /** Each statement's events (result set, rows, completion) under the runs' row and byte caps. */
  emit?: (event: RunEvent) => void;
  /** Asked before each statement: true when the client left, so the clone is given back now. */
  stopped?: () => boolean;
  /** Told when a statement succeeded: its wall time in ms, its command tag and row count. */
  onDone?: (step: Step, ms: number, done: { command: string; rowCount: number | null }) => void;
}

/**
 * The one step loop of a clone's use (project test files and graders' entries and reads, ADR 0031): a chain's
 * steps in order on the clone's learner connection, each under its own limit and what is left of the use's
 * deadline (the runner cancels it past either), with the disk guard of the runs, until one fails or the
 * client leaves. Not a server's error (the connection lost, a bug) is thrown.
 */
export async function runStepsOnClone(
  deps: Pick<RunnerDeps, 'databaseMaxBytes' | 'limits'>,
  clone: ThrowawayClone,
  steps: readonly Step[],
  options: StepsOptions,
): Promise<StepsOutcome> {
  const { connection } = clone;
  const emit = options.emit ?? (() => {});
  let statements = 0;
  for (const step of steps) {
    if (options.stopped?.()) return { ok: false, statements, step, stopped: true };
    statements++;
    const started = performance.now();
    const left = options.deadline - started;
    let timedOut = false;
    const guard = setTimeout(
      () => {
        timedOut = true;
        void connection.cancel().catch(() => {});
      },
      Math.max(0, Math.min(options.timeoutMs, left)),
    );
    const disk = guardDiskUse(connection, deps.databaseMaxBytes, step.kind);
    let done: { command: string; rowCount: number | null };
    try {
      done = await executeStep(connection.learner, step, step.index, emit, deps.limits, connection.types);
    } catch (error) {
      if (!isServerError(error)) throw error;
      return {
        ok: false,
        statements,
        step,
        error: statementErrorEvent(error, step, 'execute', step.index, disk),
        timedOut,
        pastDeadline: timedOut && left <= options.timeoutMs,
      };
    } finally {
      disk.stop();
      clearTimeout(guard);
    }
    options.onDone?.(step, performance.now() - started, done);
  }
  return { ok: true, statements };
}
