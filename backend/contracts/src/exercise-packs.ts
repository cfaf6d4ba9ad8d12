import { type Static, Type } from 'typebox';
import {
  ExerciseCompare,
  ExerciseDataset,
  ExerciseKind,
  MAX_EQUIVALENT_MUTANTS,
  MAX_EXERCISE_DATASETS,
  MAX_EXERCISE_SOLUTION_CHARS,
  MAX_EXERCISE_STATE_SQL_CHARS,
  MAX_EXERCISE_TASK_CHARS,
  MAX_EXERCISE_TITLE_CHARS,
} from './exercises.js';

/**
 * Exercise packs (issue 18): many exercises imported at once on ONE start
 * state, so its layer is built once for all of them (every exercise's tail
 * is the same `setup.sql`, hence the same key).
 */

/** Exercises one pack may hold; more is 422 EXERCISES_PACK_TOO_LARGE. */
export const MAX_PACK_EXERCISES = 100;
/** Bytes of all the SQL and text of one pack together (setup, tasks, solutions, datasets); more is 422 EXERCISES_PACK_TOO_LARGE. */
export const MAX_PACK_TEXT_BYTES = 16 * 1024 * 1024;
/** Largest body of `POST /api/exercise-packs`: the pack's text with room for JSON (past it, 413). */
export const MAX_PACK_BODY_BYTES = 20 * 1024 * 1024;

const SLUG_PATTERN = '^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$';

/** One exercise of a pack: an exercise without its own setup (the pack's start state is everyone's). */
export const PackExercise = Type.Object(
  {
    slug: Type.String({ pattern: SLUG_PATTERN, description: 'Unique name in URLs: lower-case letters, digits, `-`.' }),
    title: Type.String({ minLength: 1, maxLength: MAX_EXERCISE_TITLE_CHARS }),
    task: Type.String({ minLength: 1, maxLength: MAX_EXERCISE_TASK_CHARS, description: 'The task, in Markdown.' }),
    kind: Type.Optional(ExerciseKind),
    solution: Type.String({
      minLength: 1,
      maxLength: MAX_EXERCISE_SOLUTION_CHARS,
      description: 'The reference solution: one SELECT (a query exercise), or the statements of a write exercise.',
    }),
    datasets: Type.Optional(
      Type.Array(ExerciseDataset, {
        maxItems: MAX_EXERCISE_DATASETS,
        description: "Hidden datasets, each run after the pack's start state; names unique within the exercise.",
      }),
    ),
    compare: Type.Optional(ExerciseCompare),
    minKillScore: Type.Optional(
      Type.Number({ minimum: 0, maximum: 1, description: 'Publishing is refused below this kill score; default 0.' }),
    ),
    equivalentMutants: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 300 }), {
        maxItems: MAX_EQUIVALENT_MUTANTS,
        description: 'Labels of mutants the author marks equivalent to the reference: run, never counted.',
      }),
    ),
  },
  { additionalProperties: false },
);
export type PackExercise = Static<typeof PackExercise>;

/** `POST /api/exercise-packs`: a pack of exercises on one start state, stored as drafts and published when asked. */
export const CreateExercisePackRequest = Type.Object(
  {
    slug: Type.String({ pattern: SLUG_PATTERN, description: 'Unique name of the pack.' }),
    title: Type.String({ minLength: 1, maxLength: MAX_EXERCISE_TITLE_CHARS }),
    setup: Type.Object(
      {
        sql: Type.String({
          maxLength: MAX_EXERCISE_STATE_SQL_CHARS,
          description: 'The start state every exercise of the pack shares: built once, before anything is stored.',
        }),
      },
      { additionalProperties: false },
    ),
    exercises: Type.Array(PackExercise, {
      minItems: 1,
      description: `At most ${MAX_PACK_EXERCISES} (more is 422 EXERCISES_PACK_TOO_LARGE); slugs unique.`,
    }),
    publish: Type.Optional(
      Type.Boolean({
        description:
          'Measure and publish each exercise after the import, in order, within the pack publish budget; default false (drafts).',
      }),
    ),
  },
  { additionalProperties: false },
);
export type CreateExercisePackRequest = Static<typeof CreateExercisePackRequest>;

/**
 * `POST /api/exercise-packs` from a project: the exercises authored in it at a commit, read through
 * vcs-sync: `exercises/pack.yaml`, `exercises/<slug>/…` and `exercises/datasets/*.sql` as a pack's files
 * (services/exercises/packs/README.md), the start state its `init/*.sql` then `seed/*.sql`.
 */
export const ProjectPackRequest = Type.Object(
  {
    project: Type.String({ format: 'uuid', description: "One of the caller's projects." }),
    ref: Type.Optional(
      Type.String({ pattern: '^[0-9a-f]{4,64}$', description: 'A commit of the project; default the latest.' }),
    ),
    publish: Type.Optional(Type.Boolean({ description: 'As for a pack given as JSON; default false.' })),
  },
  { additionalProperties: false },
);
export type ProjectPackRequest = Static<typeof ProjectPackRequest>;

/** The body of `POST /api/exercise-packs`: the pack as JSON, or a project whose exercises make it. */
export const ImportExercisePackRequest = Type.Union([CreateExercisePackRequest, ProjectPackRequest]);
export type ImportExercisePackRequest = Static<typeof ImportExercisePackRequest>;

/** What became of one exercise of a pack. */
export const PackExerciseOutcome = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    slug: Type.String(),
    status: Type.Union([Type.Literal('draft'), Type.Literal('published')]),
    score: Type.Optional(Type.Number({ minimum: 0, maximum: 1, description: 'The kill score its publish measured.' })),
    mutants: Type.Optional(Type.Integer({ minimum: 0 })),
    killed: Type.Optional(Type.Integer({ minimum: 0 })),
    survivors: Type.Optional(Type.Integer({ minimum: 0, description: 'Mutants no dataset told apart.' })),
    refused: Type.Optional(
      Type.Object(
        {
          code: Type.String({
            description:
              'Why it stayed a draft: `EXERCISES_KILL_SCORE_TOO_LOW`, `EXERCISES_REFERENCE_FAILED`, `EXERCISES_SETUP_FAILED` (a hidden dataset), `EXERCISES_REFERENCE_TOO_LARGE`, `EXERCISES_PACK_BUDGET_SPENT` (not measured: the budget ran out), or any other code that refused its publish (`EXERCISES_GRADER_BUSY`, `EXERCISES_PUBLICATION_CHANGED`, …); after the grader answered busy or failing, the exercises after it are not measured and carry its code.',
          }),
          message: Type.String(),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export type PackExerciseOutcome = Static<typeof PackExerciseOutcome>;

/** `POST /api/exercise-packs`'s answer: the pack, its shared start state, and each exercise's outcome in order. */
export const ExercisePackResult = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    slug: Type.String(),
    startState: Type.Object(
      {
        layerKey: Type.String({ description: "The start state's key: every exercise of the pack starts from it." }),
        source: Type.Union([Type.Literal('layer'), Type.Literal('built')], {
          description: '`built` by this import, or `layer` when the state was cached already (another pack had it).',
        }),
      },
      { additionalProperties: false },
    ),
    exercises: Type.Array(PackExerciseOutcome),
    source: Type.Optional(
      Type.Object(
        { project: Type.String({ format: 'uuid' }), commit: Type.String() },
        { additionalProperties: false, description: 'The project and the commit the pack was read at.' },
      ),
    ),
    publishMs: Type.Optional(Type.Number({ description: 'Time the publishes took, when asked.' })),
  },
  { additionalProperties: false },
);
export type ExercisePackResult = Static<typeof ExercisePackResult>;
