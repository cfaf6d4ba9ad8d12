import type { ProjectTestEvent, ProjectTestFailure, ScriptFile } from '@taidon/contracts';
import { DomainError } from '@taidon/kit';
import type { Chain, ChainOptions, SourceFile, Step } from '../chain/index.js';
import type { RunnerDeps } from '../runs/context.js';
import type { statementErrorEvent } from '../runs/disk-guard.js';
import { clip } from '../runs/errors.js';
import { RunFailure } from '../runs/failure.js';
import { ReplayFailed, StartAborted } from '../runs/start-state/index.js';
import type { ThrowawayClone, ThrowawayReservation } from '../throwaway/clones.js';
import { layerOfTail, type ThrowawayState } from '../throwaway/states.js';
import { runStepsOnClone } from '../throwaway/steps.js';

/** Characters of a failing statement's text a `file` event carries. */
const MAX_STATEMENT_CHARS = 4000;
/** Statement timings a bench file's event carries. */
const MAX_BENCH_TIMINGS = 1000;

/** A file the tests run: `test/*.sql` or `bench/*.sql`, directly in the folder. */
export interface ProjectTestFile {
  path: string;
  kind: 'test' | 'bench';
}

/** The project's test files, then its bench files, each in name order (the order vcs-sync lists them in). */
export function testFilesOf(files: readonly ScriptFile[]): ProjectTestFile[] {
  const of = (kind: 'test' | 'bench') =>
    files
      .filter((f) => new RegExp(`^${kind}/[^/]+\\.sql$`).test(f.path))
      .map((f) => ({ path: f.path, kind }))
      .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return [...of('test'), ...of('bench')];
}

/** What a project's tests need: the project's files, its chain planned, and how to plan one file on top of it. */
export interface ProjectTestsPlan {
  ownerId: string;
  requestId: string;
  /** init/ then seed/ (and the other files, for includes), planned. */
  tail: Chain;
  files: ProjectTestFile[];
  /** Plans `path` alone on the tail's final state, the project's other files there for its includes. */
  planFile(path: string): Promise<Chain>;
}

/** Sources for planning one file of the project: only `path` runs, the others are there for `\i`/`\ir`. */
export function sourcesFor(files: readonly ScriptFile[], path: string): SourceFile[] {
  return files.map((f) => ({ path: f.path, sql: f.sql, run: f.path === path }));
}

/** Options to plan a project's file on the state its chain ends in. */
export const fileOptions = (options: ChainOptions, tail: Chain): ChainOptions => ({
  ...options,
  startKey: tail.finalKey,
});

/**
 * Issue 17's project tests: the state of the project's init/ and seed/ (a
 * cached layer, else built as a run builds it), then every file on its own
 * throwaway clone of it, as many at once as the reservation has slots; a
 * `file` event for each as it ends, `done` last. A file fails on the first
 * error, an assertion it raises included (RAISE EXCEPTION, ASSERT). Nothing
 * runs on the learner's instance; no layer of the chain is written.
 * `stopped` says the client left: files not started are not.
 */
export async function runProjectTests(
  deps: RunnerDeps,
  reservation: ThrowawayReservation,
  plan: ProjectTestsPlan,
  emit: (event: ProjectTestEvent) => void,
  stopped: () => boolean,
): Promise<void> {
  const started = performance.now();
  emit({ type: 'started', files: plan.files });
  let state: ThrowawayState;
  try {
    state = await layerOfTail(deps, reservation, {
      ownerId: plan.ownerId,
      tail: plan.tail,
      requestId: plan.requestId,
      emit: (event) => {
        if (event.type === 'progress' || event.type === 'error') emit(event);
      },
    });
  } catch (caught) {
    const error = caught instanceof StartAborted ? caught.reason : caught;
    // A replayed step's own error was emitted where it happened: the project's chain is wrong, no file runs.
    if (!(error instanceof ReplayFailed)) throw new RunFailure('restore', error);
    emit({ type: 'done', outcome: 'error', passed: 0, failed: 0, totalMs: Math.round(performance.now() - started) });
    return;
  }
  emit({
    type: 'prepared',
    layerKey: state.layerKey,
    source: state.source === 'built' ? 'built' : 'layer',
    stepsReplayed: state.stepsReplayed,
    prepareMs: state.prepareMs,
  });
  let passed = 0;
  let failed = 0;
  const queue = [...plan.files];
  const worker = async () => {
    for (let file = queue.shift(); file && !stopped(); file = queue.shift()) {
      const event = await runFile(deps, reservation, plan, state.layerKey, file, stopped);
      if (event.outcome === 'passed') passed++;
      else failed++;
      emit(event);
    }
  };
  await Promise.all(Array.from({ length: Math.min(reservation.slots, plan.files.length) }, worker));
  emit({
    type: 'done',
    outcome: failed > 0 ? 'failed' : 'passed',
    passed,
    failed,
    totalMs: Math.round(performance.now() - started),
  });
}

type FileEvent = Extract<ProjectTestEvent, { type: 'file' }>;

/** One file: planned (a planning error is its failure), then run on a clone of the prepared layer. */
async function runFile(
  deps: RunnerDeps,
  reservation: ThrowawayReservation,
  plan: ProjectTestsPlan,
  layerKey: string,
  file: ProjectTestFile,
  stopped: () => boolean,
): Promise<FileEvent> {
  const base = { type: 'file' as const, kind: file.kind, path: file.path };
  let chain: Chain;
  try {
    chain = await plan.planFile(file.path);
  } catch (error) {
    if (!(error instanceof DomainError) || error.statusCode >= 500) throw error;
    return { ...base, outcome: 'failed', statements: 0, durationMs: 0, failure: refusedFile(error, file.path) };
  }
  return reservation.withClone(layerKey, plan.requestId, async (clone) => ({
    ...base,
    ...(await executeFile(deps, clone, chain, {
      timed: file.kind === 'bench',
      useMaxMs: reservation.useMaxMs,
      stopped,
    })),
  }));
}

/** The failure of a file the planner refused (a syntax error, an include not found), where it is. */
function refusedFile(error: DomainError, path: string): ProjectTestFailure {
  const d = error.details;
  const at = (name: string) => (typeof d[name] === 'number' ? (d[name] as number) : 1);
  return {
    sqlstate: typeof d.sqlstate === 'string' ? d.sqlstate : '42601',
    message: error.message,
    path: typeof d.path === 'string' ? d.path : path,
    line: at('line'),
    column: at('column'),
    code: error.code,
  };
}

/** The file's steps on the clone, one after the other, each under the runner's bounds, until one fails. */
async function executeFile(
  deps: RunnerDeps,
  clone: ThrowawayClone,
  chain: Chain,
  { timed, useMaxMs, stopped }: { timed: boolean; useMaxMs: number; stopped: () => boolean },
): Promise<Omit<FileEvent, 'type' | 'kind' | 'path'>> {
  const started = performance.now();
  const statementMs: { line: number; ms: number }[] = [];
  // Result rows are read under the runs' caps and dropped: a test says whether it passed, not what it selected.
  const outcome = await runStepsOnClone(deps, clone, chain.steps, {
    timeoutMs: deps.statementTimeoutMs,
    deadline: started + useMaxMs,
    stopped,
    onDone: (step, ms) => {
      if (timed && statementMs.length < MAX_BENCH_TIMINGS) {
        statementMs.push({ line: step.line, ms: Math.round(ms * 1000) / 1000 });
      }
    },
  });
  const durationMs = Math.round(performance.now() - started);
  if (outcome.ok)
    return { outcome: 'passed', statements: outcome.statements, durationMs, ...(timed ? { statementMs } : {}) };
  const { step, statements } = outcome;
  if (outcome.stopped) {
    // The client left: the clone is given back now, not after the file's every statement.
    return {
      outcome: 'failed',
      statements,
      durationMs,
      failure: {
        sqlstate: '57014',
        message: 'The client left: the file was stopped before this statement.',
        path: step.path,
        line: step.line,
        column: step.column,
        statement: clip(step.sql).slice(0, MAX_STATEMENT_CHARS),
      },
    };
  }
  const failure = failureOf(outcome.error, step);
  return {
    outcome: 'failed',
    statements,
    durationMs,
    failure: outcome.pastDeadline
      ? {
          ...failure,
          code: 'SQL_RUNNER_THROWAWAY_USE_TIMEOUT',
          message: `The file ran for more than ${useMaxMs} ms in all; this statement was cancelled.`,
        }
      : failure,
  };
}

function failureOf(event: ReturnType<typeof statementErrorEvent>, step: Step): ProjectTestFailure {
  return {
    sqlstate: event.sqlstate,
    message: event.message,
    ...(event.detail ? { detail: event.detail } : {}),
    ...(event.hint ? { hint: event.hint } : {}),
    path: event.path ?? step.path,
    line: event.line ?? step.line,
    column: event.column ?? step.column,
    statement: clip(step.sql).slice(0, MAX_STATEMENT_CHARS),
  };
}
