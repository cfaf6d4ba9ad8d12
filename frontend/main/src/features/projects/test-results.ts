import type { ProjectTestEvent, ProjectTestFailure } from '@taidon/contracts';

/** One `test/` or `bench/` file as the panel shows it while the tests stream in. */
export interface TestFileView {
  path: string;
  kind: 'test' | 'bench';
  outcome: 'pending' | 'passed' | 'failed';
  durationMs?: number;
  statements?: number;
  statementMs?: { line: number; ms: number }[];
  failure?: ProjectTestFailure;
}

/** A project's test run: what the stream has said so far. */
export interface TestsView {
  status: 'running' | 'passed' | 'failed' | 'error';
  files: TestFileView[];
  /** How the prepared state was had: from a cached layer, or built replaying n steps. */
  prepared?: { source: 'layer' | 'built'; stepsReplayed: number; prepareMs: number };
  /** The build of the state, or the platform, failed: no file ran (or not all). */
  error?: { code: string; message: string; path?: string; line?: number };
  totals?: { passed: number; failed: number; totalMs: number };
}

/** The view before the first event. */
export const startingTests = (): TestsView => ({ status: 'running', files: [] });

/** The view after one more event (a new object; the old one is left as it was). */
export function applyTestEvent(view: TestsView, event: ProjectTestEvent): TestsView {
  switch (event.type) {
    case 'started':
      return { ...view, files: event.files.map((f) => ({ path: f.path, kind: f.kind, outcome: 'pending' })) };
    case 'prepared':
      return {
        ...view,
        prepared: { source: event.source, stepsReplayed: event.stepsReplayed, prepareMs: event.prepareMs },
      };
    case 'file': {
      const file: TestFileView = {
        path: event.path,
        kind: event.kind,
        outcome: event.outcome,
        durationMs: event.durationMs,
        statements: event.statements,
        ...(event.statementMs ? { statementMs: event.statementMs } : {}),
        ...(event.failure ? { failure: event.failure } : {}),
      };
      const known = view.files.some((f) => f.path === event.path);
      return {
        ...view,
        files: known ? view.files.map((f) => (f.path === event.path ? file : f)) : [...view.files, file],
      };
    }
    case 'error':
      return {
        ...view,
        status: 'error',
        error: {
          code: event.code ?? event.sqlstate,
          message: event.message,
          ...(event.path ? { path: event.path } : {}),
          ...(event.line ? { line: event.line } : {}),
        },
      };
    case 'done':
      return {
        ...view,
        status: event.outcome,
        totals: { passed: event.passed, failed: event.failed, totalMs: event.totalMs },
      };
    default:
      return view;
  }
}

/** A stream that ended without `done` (cut, or a platform failure): still running files count as not run. */
export function endTests(view: TestsView): TestsView {
  return view.status === 'running'
    ? {
        ...view,
        status: 'error',
        error: view.error ?? { code: 'STREAM_ENDED', message: 'The test stream ended before the last file.' },
      }
    : view;
}

/** One line for a failure: `02-books.sql:4:3 P0001 a book is published before its author was born`. */
export function describeFailure(failure: ProjectTestFailure): string {
  return `${failure.path}:${failure.line}:${failure.column} ${failure.sqlstate} ${failure.message}`;
}
