import { type Static, Type } from 'typebox';
import { Problem, SqlProblem } from './common.js';

/** Largest script accepted in one request, in characters (pg_dump-style seeds included). */
export const MAX_SCRIPT_CHARS = 32 * 1024 * 1024;

/** Most files one chain may be built from (a `{ files }` input, or a project's scripts). */
export const MAX_PLAN_FILES = 1000;

/** One script of a project: `init/01_schema.sql`, `seed/10_rows.sql`, … */
export const ScriptFile = Type.Object(
  {
    path: Type.String({ minLength: 1, maxLength: 512, description: 'POSIX path relative to the project root.' }),
    sql: Type.String({ maxLength: MAX_SCRIPT_CHARS }),
    run: Type.Optional(
      Type.Boolean({ description: 'false: only available to `\\i`/`\\ir`, not executed on its own. Default true.' }),
    ),
  },
  { additionalProperties: false },
);
export type ScriptFile = Static<typeof ScriptFile>;

/**
 * What a chain is built from: one SQL text (treated as the file `query.sql`),
 * or project files executed in the order given.
 */
export const PlanInput = Type.Union([
  Type.Object({ sql: Type.String({ maxLength: MAX_SCRIPT_CHARS }) }, { additionalProperties: false }),
  Type.Object(
    { files: Type.Array(ScriptFile, { minItems: 1, maxItems: MAX_PLAN_FILES }) },
    { additionalProperties: false },
  ),
]);
export type PlanInput = Static<typeof PlanInput>;

/** One step of a planned chain: a statement as PostgreSQL will execute it. */
export const PlanStep = Type.Object(
  {
    index: Type.Integer({ minimum: 0 }),
    kind: Type.String({ description: 'Parse node of the statement (SelectStmt, CopyStmt, …) or Echo for `\\echo`.' }),
    path: Type.String(),
    line: Type.Integer({ minimum: 1 }),
    column: Type.Integer({ minimum: 1 }),
    key: Type.String({ description: 'State key after this step: sha256 of the chain up to here.' }),
    opensTransaction: Type.Boolean({
      description: 'A transaction block is open after this step, so no layer can be taken here.',
    }),
    cached: Type.Optional(Type.Boolean({ description: 'A layer of the state after this step is cached.' })),
  },
  { additionalProperties: false },
);
export type PlanStep = Static<typeof PlanStep>;

/** The answer of `POST /api/plan`. */
export const PlanResponse = Type.Object(
  {
    formatVersion: Type.Integer({ description: 'Version of the canonical form the keys are computed with.' }),
    baseKey: Type.String({ description: 'K0: engine version and result-changing settings.' }),
    finalKey: Type.String({ description: 'Key of the state after the last step.' }),
    steps: Type.Array(PlanStep),
    startsFrom: Type.Optional(
      Type.Union([
        Type.Object(
          {
            key: Type.String(),
            afterStep: Type.Integer({
              minimum: -1,
              description: 'Index of the last step the layer covers; -1 for the base state.',
            }),
            replaySteps: Type.Integer({
              minimum: 0,
              description: 'Steps a run of this chain would replay after restoring it.',
            }),
          },
          { additionalProperties: false },
        ),
        Type.Null(),
      ]),
    ),
  },
  { additionalProperties: false },
);
export type PlanResponse = Static<typeof PlanResponse>;

/**
 * A tail that names one of the caller's projects: its `init/` then `seed/`
 * scripts in name order, as at `ref` (the latest commit without it), with
 * `\i`/`\ir` resolved among the project's `.sql` files. Another account's
 * project answers 404 like one that does not exist.
 */
export const ProjectTailRef = Type.Object(
  {
    project: Type.String({ format: 'uuid', description: 'Id of one of your projects.' }),
    ref: Type.Optional(
      Type.String({
        pattern: '^[0-9a-f]{4,64}$',
        description: "A commit of the project's history, full or abbreviated; default the latest.",
      }),
    ),
  },
  { additionalProperties: false },
);
export type ProjectTailRef = Static<typeof ProjectTailRef>;

/** Body of `POST /api/plan`: a chain given whole, or a project whose scripts make it. */
export const PlanRequest = Type.Union([...PlanInput.anyOf, ProjectTailRef]);
export type PlanRequest = Static<typeof PlanRequest>;

/**
 * A 422 of a plan or a run: an error in the SQL, with its position
 * (SqlProblem), or, for a project tail, a `ref` the project lacks (Problem).
 */
export const UnplannableProblem = Type.Union([SqlProblem, Problem]);
