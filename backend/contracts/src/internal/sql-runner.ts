import { type Static, Type } from 'typebox';
import { RunTail } from '../shares.js';
import { BatchRefusal } from './batch.js';

/**
 * sql-runner's internal API for a grader (exercises calls it; the gateway
 * does not route it): SQL run on throwaway clones of a state (ADR 0031),
 * each entry on a fresh clone of its own, answered as data rather than a
 * stream. Declared once here, used by sql-runner's route and by the
 * exercises service's client.
 */

/** Entries one request may carry (each is its own clone; a publish sends one per mutant and dataset). */
export const MAX_THROWAWAY_QUERIES = 16;
/** Characters of one entry's SQL. */
export const MAX_THROWAWAY_QUERY_CHARS = 64 * 1024;
/** Reads one entry may run after its SQL on the same clone (a write exercise's state, catalog and check query). */
export const MAX_THROWAWAY_READS = 4;

/** `POST /throwaway/queries`. */
export const ThrowawayQueriesRequest = Type.Object(
  {
    tail: Type.Optional(RunTail),
    statements: Type.Array(
      Type.Object(
        {
          sql: Type.String({
            minLength: 1,
            maxLength: MAX_THROWAWAY_QUERY_CHARS,
            description:
              'One or more statements, run in order on a fresh clone of the state; the answer is the last statement’s result (or the first error).',
          }),
          reads: Type.Optional(
            Type.Array(
              Type.Object(
                { sql: Type.String({ minLength: 1, maxLength: MAX_THROWAWAY_QUERY_CHARS }) },
                { additionalProperties: false },
              ),
              {
                minItems: 1,
                maxItems: MAX_THROWAWAY_READS,
                description:
                  'Reads run after `sql` succeeded, on the same clone and connection, each answered on its own (result or error) in `reads`: what a grader reads of the state the entry left. Not run when `sql` failed.',
              },
            ),
          ),
        },
        { additionalProperties: false },
      ),
      { minItems: 1, maxItems: MAX_THROWAWAY_QUERIES },
    ),
    timeoutMs: Type.Optional(
      Type.Integer({
        minimum: 10,
        maximum: 600_000,
        description:
          "Time limit of each statement, in milliseconds; never more than the runner's own RUN_STATEMENT_TIMEOUT_MS.",
      }),
    ),
  },
  { additionalProperties: false },
);
export type ThrowawayQueriesRequest = Static<typeof ThrowawayQueriesRequest>;

/** Where a statement's error is: its SQLSTATE and, when the server gave one, its place in the entry's SQL. */
export const ThrowawayQueryError = Type.Object(
  {
    sqlstate: Type.String(),
    message: Type.String(),
    line: Type.Integer({ minimum: 1 }),
    column: Type.Integer({ minimum: 1 }),
    position: Type.Optional(Type.Integer({ minimum: 1 })),
    hint: Type.Optional(Type.String()),
    timedOut: Type.Optional(Type.Boolean({ description: 'The statement ran past the time limit and was cancelled.' })),
  },
  { additionalProperties: false },
);
export type ThrowawayQueryError = Static<typeof ThrowawayQueryError>;

const ThrowawayOkFields = {
  ok: Type.Literal(true),
  command: Type.String({ description: "The last statement's command tag (SELECT, INSERT, …)." }),
  rowCount: Type.Union([Type.Integer(), Type.Null()]),
  columns: Type.Array(Type.Object({ name: Type.String(), type: Type.String() }, { additionalProperties: false }), {
    description: 'The last statement’s columns, types as `format_type` prints them; empty when it has no result set.',
  }),
  rows: Type.Array(Type.Array(Type.Union([Type.String(), Type.Null()]))),
  truncated: Type.Boolean({ description: "Rows were cut at the runner's RUN_MAX_ROWS or RUN_MAX_BYTES." }),
  ms: Type.Number({ description: 'Execution time on the clone.' }),
};

/** The answer of one of an entry's `reads`: its last statement's result, or its error. */
export const ThrowawayReadResult = Type.Union([
  Type.Object(ThrowawayOkFields, { additionalProperties: false }),
  Type.Object(
    { ok: Type.Literal(false), error: ThrowawayQueryError, ms: Type.Number() },
    { additionalProperties: false },
  ),
]);
export type ThrowawayReadResult = Static<typeof ThrowawayReadResult>;

/** One entry's answer: its last statement's result (columns, rows as PostgreSQL's text), or its error. */
export const ThrowawayQueryResult = Type.Union([
  Type.Object(
    {
      ...ThrowawayOkFields,
      reads: Type.Optional(
        Type.Array(ThrowawayReadResult, { description: 'The answers of the entry’s `reads`, in order.' }),
      ),
    },
    { additionalProperties: false },
  ),
  Type.Object(
    { ok: Type.Literal(false), error: ThrowawayQueryError, ms: Type.Number() },
    { additionalProperties: false },
  ),
]);
export type ThrowawayQueryResult = Static<typeof ThrowawayQueryResult>;

/** `POST /throwaway/queries`'s answer: one result per entry, in order, and the state they ran on. */
export const ThrowawayQueriesResponse = Type.Object(
  {
    layerKey: Type.String({ description: 'Key of the state every entry ran on a clone of: K(tail).' }),
    source: Type.Union([Type.Literal('layer'), Type.Literal('built')]),
    prepareMs: Type.Number(),
    results: Type.Array(ThrowawayQueryResult),
  },
  { additionalProperties: false },
);
export type ThrowawayQueriesResponse = Static<typeof ThrowawayQueriesResponse>;

/**
 * Requests one `POST /throwaway/query-batches` may carry: an attempt sends one per dataset (a start state and up
 * to 8 hidden ones), a publish one per dataset of a round of mutants.
 */
export const MAX_THROWAWAY_BATCH = 16;

/**
 * `POST /throwaway/query-batches`: several `POST /throwaway/queries` requests of one account in one round trip
 * (an attempt's datasets, each its own tail), run at once, each exactly as that route runs it.
 */
export const ThrowawayQueryBatchRequest = Type.Object(
  { requests: Type.Array(ThrowawayQueriesRequest, { minItems: 1, maxItems: MAX_THROWAWAY_BATCH }) },
  { additionalProperties: false },
);
export type ThrowawayQueryBatchRequest = Static<typeof ThrowawayQueryBatchRequest>;

/** `POST /throwaway/query-batches`'s answer: one per request, in order, its answer or its refusal. */
export const ThrowawayQueryBatchResponse = Type.Object(
  {
    answers: Type.Array(
      Type.Union([
        Type.Object({ ok: Type.Literal(true), answer: ThrowawayQueriesResponse }, { additionalProperties: false }),
        BatchRefusal,
      ]),
    ),
  },
  { additionalProperties: false },
);
export type ThrowawayQueryBatchResponse = Static<typeof ThrowawayQueryBatchResponse>;

/** Keys one holder (a publication) may hold: its start state and up to 8 hidden datasets, with room to spare. */
export const MAX_LAYER_HOLD_KEYS = 16;
/** Warm instances one holder may ask per key (the runner's own caps bound the sum). */
export const MAX_LAYER_HOLD_WARM = 8;

/** `PUT /layer-holds/:holder`'s path: who holds, e.g. `exercise:<uuid>`. */
export const LayerHoldParams = Type.Object(
  { holder: Type.String({ pattern: '^[a-z]+:[0-9A-Za-z_-]{1,64}$' }) },
  { additionalProperties: false },
);
export type LayerHoldParams = Static<typeof LayerHoldParams>;

/**
 * `PUT /layer-holds/:holder`: the layers a holder keeps pinned and warm, replacing what it held before (a new
 * publication's keys replace the old ones, which are let go unless another holder or a share link holds them).
 */
export const LayerHoldRequest = Type.Object(
  {
    keys: Type.Array(Type.String({ pattern: '^[0-9a-f]{64}$' }), { minItems: 1, maxItems: MAX_LAYER_HOLD_KEYS }),
    warm: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: MAX_LAYER_HOLD_WARM,
        description: 'Started instances of each key the holder asks env-manager to keep ready (default 1).',
      }),
    ),
  },
  { additionalProperties: false },
);
export type LayerHoldRequest = Static<typeof LayerHoldRequest>;

/** What a hold left: per key whether its layer is pinned (false: no such layer now) and the warm demand declared. */
export const LayerHoldResponse = Type.Object(
  {
    holder: Type.String(),
    keys: Type.Array(
      Type.Object({
        key: Type.String(),
        pinned: Type.Boolean(),
        warm: Type.Integer({
          minimum: 0,
          description: 'Started instances of the key this runner asks env-manager to keep.',
        }),
        prepared: Type.Integer({
          minimum: 0,
          description:
            "Connections this runner holds open and warmed to those instances: what a grader's clone of the key takes without a connection of its own (ADR 0052).",
        }),
      }),
    ),
  },
  { additionalProperties: false },
);
export type LayerHoldResponse = Static<typeof LayerHoldResponse>;
