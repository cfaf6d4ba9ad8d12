import { type Static, Type } from 'typebox';
import type { RunEvent } from './runs.js';

/** Most `test/*.sql` and `bench/*.sql` files one request runs together (more is 422 SQL_RUNNER_TESTS_TOO_MANY_FILES). */
export const MAX_PROJECT_TEST_FILES = 200;

/**
 * `POST /api/projects/{id}/tests`: the project's `test/*.sql` then
 * `bench/*.sql` files (directly in those folders, in name order), each on its
 * own throwaway clone of the state the project's `init/` and `seed/` build
 * (ADR 0031). The answer is an `application/x-ndjson` stream of
 * ProjectTestEvent.
 */
export const ProjectTestsRequest = Type.Object(
  {
    ref: Type.Optional(
      Type.String({ pattern: '^[0-9a-f]{4,64}$', description: 'A commit of the project; default the latest.' }),
    ),
  },
  { additionalProperties: false },
);
export type ProjectTestsRequest = Static<typeof ProjectTestsRequest>;

/** Where and why a test file failed: the failing statement, its place and PostgreSQL's error. */
export interface ProjectTestFailure {
  /** SQLSTATE: P0001 for RAISE EXCEPTION, P0004 for a failed ASSERT, 42601 for a syntax error… */
  sqlstate: string;
  message: string;
  detail?: string;
  hint?: string;
  /** File the failing statement is in (an included file's own path). */
  path: string;
  line: number;
  column: number;
  /** The failing statement's text (cut past 4,000 characters). */
  statement?: string;
  /** The platform's code when the file could not be run at all (its text refused by the planner, a 5xx). */
  code?: string;
}

/**
 * Events of a project's tests, in order: `started` (the files); the state
 * prepared (`progress` events of its build, then `prepared`, or the build's
 * `error` and a `done` with outcome `error`); one `file` event per file, as
 * each ends (several run at once); `done` last. A failure of the platform is
 * an `error` event naming its phase, without `done`.
 */
export type ProjectTestEvent =
  | { type: 'started'; files: { path: string; kind: 'test' | 'bench' }[] }
  | Extract<RunEvent, { type: 'progress' | 'error' | 'heartbeat' }>
  | {
      type: 'prepared';
      /** The layer every file's clone is made of: K(init/ + seed/). */
      layerKey: string;
      source: 'layer' | 'built';
      stepsReplayed: number;
      prepareMs: number;
    }
  | {
      type: 'file';
      kind: 'test' | 'bench';
      path: string;
      outcome: 'passed' | 'failed';
      /** Statements executed (the failing one included). */
      statements: number;
      /** From the first statement sent to the last answered, on the clone (not the clone's start). */
      durationMs: number;
      /** bench files: each statement's time, in order (at most 1,000). */
      statementMs?: { line: number; ms: number }[];
      failure?: ProjectTestFailure;
    }
  | { type: 'done'; outcome: 'passed' | 'failed' | 'error'; passed: number; failed: number; totalMs: number };
