import { type Static, Type } from 'typebox';
import { RunTail } from './shares.js';

/** Media type of the run event stream: one JSON event per line. */
export const RUN_STREAM_CONTENT_TYPE = 'application/x-ndjson';

/**
 * `POST /api/runs`: `tail` defines the state to start from (same shapes as
 * `/api/plan`, or `{ share }` naming a share link), `head` is what runs now. Without a tail, the head continues
 * on the session's instance as it is (REPL style). Errors in the SQL text
 * itself (syntax, meta-commands) answer 422 problem+json like `/api/plan`,
 * before any stream starts; errors the server raises come as `error` events.
 */
export const RunRequest = Type.Object(
  {
    sessionId: Type.Optional(
      Type.String({ format: 'uuid', description: 'The learner session; a new one is made when absent.' }),
    ),
    tail: Type.Optional(RunTail),
    head: Type.String({ maxLength: 1024 * 1024, description: 'SQL to execute now, whose results stream back.' }),
  },
  { additionalProperties: false },
);
export type RunRequest = Static<typeof RunRequest>;

/** A column of a result set: its name and PostgreSQL type as `format_type` prints it. */
export interface ResultColumn {
  name: string;
  type: string;
}

/**
 * How the run's starting state was obtained: the session's instance as it was; the session's instance with its
 * database recreated from the layer it was started from (a reset, ADR 0029); a warm-pool instance; a new clone
 * of a layer; a new instance from the empty template.
 */
export type StateSource = 'session' | 'template-reset' | 'pool' | 'clone' | 'template';

/**
 * Events of the run stream, in order: `started` first; then `progress`,
 * `heartbeat`, `notice`, result sets (`resultset`, `rows`…, `complete`) and
 * `error`; and exactly one of `done` or `cancelled` last. Every value in
 * `rows` is PostgreSQL's own text output, or null for SQL NULL.
 */
export type RunEvent =
  | { type: 'started'; runId: string; sessionId: string }
  | { type: 'progress'; phase: 'plan' | 'restore' | 'replay' | 'execute'; step?: number; of?: number }
  | { type: 'heartbeat'; phase: string; elapsedMs: number }
  | { type: 'notice'; severity: string; message: string; sqlstate?: string; statement?: number }
  | { type: 'resultset'; statement: number; columns: ResultColumn[] }
  | { type: 'rows'; statement: number; rows: (string | null)[][] }
  | { type: 'complete'; statement: number; command: string; rowCount: number | null; truncated: boolean }
  | {
      type: 'error';
      /**
       * Where the run stopped. A failure of the platform rather than of the SQL carries `code` (the platform's
       * error) and SQLSTATE 58000 in whichever phase it happened; a replayed step's error carries its own.
       */
      phase: 'plan' | 'restore' | 'replay' | 'execute';
      code?: string;
      statement?: number;
      sqlstate: string;
      message: string;
      detail?: string;
      hint?: string;
      position?: number;
      path?: string;
      line?: number;
      column?: number;
    }
  | { type: 'cancelled'; reason: 'request' | 'client-closed' | 'timeout' }
  | {
      type: 'done';
      outcome: 'ok' | 'error';
      source: StateSource;
      warmPool: boolean;
      layerKey: string | null;
      stepsReplayed: number;
      instanceKey: string | null;
      timings: { planMs: number; restoreMs: number; replayMs: number; executeMs: number; totalMs: number };
    };
