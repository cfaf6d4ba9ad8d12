import type { ResultColumn, RunEvent } from '@taidon/contracts';

/** One result set of a run, filled while rows stream in. */
export interface ResultSetView {
  statement: number;
  columns: ResultColumn[];
  /** Grows in place while streaming (the grid reads it through `RunView.version`). */
  rows: (string | null)[][];
  command: string | null;
  rowCount: number | null;
  truncated: boolean;
  complete: boolean;
}

/** A statement that returned no rows (DML, DDL): its command tag and row count. */
export interface CommandView {
  statement: number;
  command: string;
  rowCount: number | null;
}

/** An error of a run, kept whole for display and for the editor marker. */
export type RunErrorView = Extract<RunEvent, { type: 'error' }> & { bufferOffset?: number };

export type DoneView = Extract<RunEvent, { type: 'done' }>;

/** Everything the page shows about one run, updated event by event. */
export interface RunView {
  localId: string;
  runId: string | null;
  sessionId: string | null;
  tail: string;
  head: string;
  headOffset: number;
  startedAtMs: number;
  firstRowAtMs: number | null;
  status: 'running' | 'ok' | 'error' | 'cancelled';
  phase: { phase: string; step?: number | undefined; of?: number | undefined; elapsedMs?: number } | null;
  results: ResultSetView[];
  commands: CommandView[];
  notices: Extract<RunEvent, { type: 'notice' }>[];
  error: RunErrorView | null;
  done: DoneView | null;
  cancelReason: string | null;
  /** Bumped on every change, so views re-render without copying rows. */
  version: number;
}

/** A fresh run view before the first event. */
export function newRunView(input: { tail: string; head: string; headOffset: number; sessionId: string }): RunView {
  return {
    localId: crypto.randomUUID(),
    runId: null,
    sessionId: input.sessionId,
    tail: input.tail,
    head: input.head,
    headOffset: input.headOffset,
    startedAtMs: performance.now(),
    firstRowAtMs: null,
    status: 'running',
    phase: null,
    results: [],
    commands: [],
    notices: [],
    error: null,
    done: null,
    cancelReason: null,
    version: 0,
  };
}

/** Applies one event to the run view, in place; returns whether rows arrived for the first time. */
export function applyEvent(view: RunView, event: RunEvent): boolean {
  view.version++;
  switch (event.type) {
    case 'started':
      view.runId = event.runId;
      view.sessionId = event.sessionId;
      return false;
    case 'progress':
      view.phase = { phase: event.phase, step: event.step, of: event.of };
      return false;
    case 'heartbeat':
      view.phase = { ...(view.phase ?? { phase: event.phase }), elapsedMs: event.elapsedMs };
      return false;
    case 'notice':
      view.notices.push(event);
      return false;
    case 'resultset':
      view.results.push({
        statement: event.statement,
        columns: event.columns,
        rows: [],
        command: null,
        rowCount: null,
        truncated: false,
        complete: false,
      });
      return false;
    case 'rows': {
      const target = view.results.findLast((r) => r.statement === event.statement);
      if (!target) return false;
      for (const row of event.rows) target.rows.push(row);
      const first = view.firstRowAtMs === null && event.rows.length > 0;
      if (first) view.firstRowAtMs = performance.now();
      return first;
    }
    case 'complete': {
      const target = view.results.findLast((r) => r.statement === event.statement && !r.complete);
      if (target) {
        Object.assign(target, { command: event.command, rowCount: event.rowCount, truncated: event.truncated });
        target.complete = true;
      } else {
        view.commands.push({ statement: event.statement, command: event.command, rowCount: event.rowCount });
      }
      return false;
    }
    case 'error':
      view.error = event;
      return false;
    case 'cancelled':
      view.status = 'cancelled';
      view.cancelReason = event.reason;
      view.phase = null;
      return false;
    case 'done':
      view.done = event;
      view.status = event.outcome;
      view.phase = null;
      return false;
  }
}

/** How the starting state was obtained, in the learner's words. */
export function describeSource(done: DoneView): string {
  if (done.source === 'session') return 'continued your session instance';
  if (done.source === 'template-reset') return 'your session instance, reset to the cached state';
  const replay = done.stepsReplayed > 0 ? ` + replay of ${done.stepsReplayed} steps` : '';
  if (done.source === 'pool' || done.warmPool) return `warm pool${replay}`;
  if (done.source === 'clone') return `cached layer${replay}`;
  return `new instance${replay}`;
}

/** A phase in the learner's words: "restoring a layer", "replaying step 2 of 5", "executing". */
export function describePhase(phase: NonNullable<RunView['phase']>): string {
  switch (phase.phase) {
    case 'plan':
      return 'planning';
    case 'restore':
      return 'restoring a layer';
    case 'replay':
      return phase.step && phase.of ? `replaying step ${phase.step} of ${phase.of}` : 'replaying';
    case 'execute':
      return 'executing';
    default:
      return phase.phase;
  }
}
