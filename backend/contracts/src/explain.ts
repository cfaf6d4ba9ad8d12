import { type Static, Type } from 'typebox';
import { RunTail } from './shares.js';

/** Characters of the statement `/api/explain` takes (one statement; a run's head takes 1 MiB). */
export const MAX_EXPLAIN_STATEMENT_CHARS = 256 * 1024;

/**
 * `POST /api/explain`: `EXPLAIN (ANALYZE, BUFFERS)` of one statement on a
 * throwaway clone of a state (ADR 0031): the session's instance's current
 * state when `session` names a session of the caller that has an instance,
 * else the state `tail` defines (the same shapes as `/api/runs`; the empty
 * database without one). The learner's instance and every layer stay as
 * they were, also for a write.
 */
export const ExplainRequest = Type.Object(
  {
    session: Type.Optional(
      Type.String({
        format: 'uuid',
        description: "A session of the caller; its instance's current state is explained.",
      }),
    ),
    tail: Type.Optional(RunTail),
    statement: Type.String({
      minLength: 1,
      maxLength: MAX_EXPLAIN_STATEMENT_CHARS,
      description: 'Exactly one SQL statement (more is 400 SQL_RUNNER_EXPLAIN_ONE_STATEMENT).',
    }),
  },
  { additionalProperties: false },
);
export type ExplainRequest = Static<typeof ExplainRequest>;

/**
 * Where the explained state came from: `layer`, a cached layer of its key;
 * `built`, built for this request from the deepest cached layer (and cached
 * since); `session-snapshot`, a private snapshot of the session's running
 * instance, deleted after (its committed state: a transaction the learner
 * holds open is not in it).
 */
export const ExplainSource = Type.Union([
  Type.Literal('layer'),
  Type.Literal('built'),
  Type.Literal('session-snapshot'),
]);
export type ExplainSource = Static<typeof ExplainSource>;

/** `POST /api/explain`'s answer. */
export const ExplainResponse = Type.Object(
  {
    plan: Type.Object(
      {},
      {
        additionalProperties: true,
        description:
          'The object EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) answers in its array: `Plan`, `Planning Time`, `Execution Time`, `Planning`, `Triggers`…',
      },
    ),
    text: Type.String({
      description:
        'The same statement as EXPLAIN (ANALYZE, BUFFERS) prints it in text; a second execution on the same state (each in a transaction rolled back), so its times differ slightly.',
    }),
    layerKey: Type.Union([Type.String(), Type.Null()], {
      description:
        'Key of the explained state (K(tail), or the session’s current key); null when the session’s is unknown.',
    }),
    source: ExplainSource,
  },
  { additionalProperties: false },
);
export type ExplainResponse = Static<typeof ExplainResponse>;
