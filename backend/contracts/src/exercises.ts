import { type Static, Type } from 'typebox';

/**
 * Exercises (issue 18, ADR 0036): an instructor authors an exercise (a start
 * state, a task, a reference solution, hidden datasets, how answers compare)
 * and publishes it once its datasets tell the reference's mutants apart well
 * enough; learners read the published exercise, never its solution or
 * hidden data. First cut: query exercises, authored through the API.
 */

/** Characters of an exercise's title. */
export const MAX_EXERCISE_TITLE_CHARS = 200;
/** Characters of the task text (Markdown). */
export const MAX_EXERCISE_TASK_CHARS = 64 * 1024;
/** Characters of the reference solution. */
export const MAX_EXERCISE_SOLUTION_CHARS = 64 * 1024;
/** Characters of the start state's SQL, and of each hidden dataset's. */
export const MAX_EXERCISE_STATE_SQL_CHARS = 1024 * 1024;
/** Characters of a write exercise's check query: room is left for the hidden sort keys the grader appends within sql-runner's 64 KiB. */
export const MAX_EXERCISE_CHECK_CHARS = 16 * 1024;
/** Hidden datasets one exercise may have. */
export const MAX_EXERCISE_DATASETS = 8;
/** Mutants an author may mark equivalent (the generator makes at most 60). */
export const MAX_EQUIVALENT_MUTANTS = 60;
/** Largest body of `POST /api/exercises`: the start state and every dataset at their caps, with room for JSON. */
export const MAX_EXERCISE_BODY_BYTES = 12 * 1024 * 1024;

const SLUG_PATTERN = '^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$';
const DATASET_NAME_PATTERN = '^[a-z0-9](?:[a-z0-9_-]{0,38}[a-z0-9])?$';

/** Tables a write exercise compares row by row: `table` or `schema.table`, lower-case as PostgreSQL folds them. */
export const MAX_COMPARED_TABLES = 16;
const TABLE_NAME_PATTERN = '^[a-z_][a-z0-9_]{0,62}(?:\\.[a-z_][a-z0-9_]{0,62})?$';

/** How answers compare with the reference: a query's result set, or the state a write or DDL answer leaves. */
export const ExerciseCompare = Type.Object(
  {
    tables: Type.Optional(
      Type.Array(Type.String({ pattern: TABLE_NAME_PATTERN }), {
        maxItems: MAX_COMPARED_TABLES,
        description:
          'Write exercises: tables compared row by row after the answer (at most 10 000 rows each); every other table of `public` is compared by its digest (nothing else may change).',
      }),
    ),
    schema: Type.Optional(
      Type.Boolean({
        description:
          'Write and DDL exercises: also compare columns (type, NOT NULL, default), constraints and indexes from the catalog, without their names.',
      }),
    ),
    check: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: MAX_EXERCISE_CHECK_CHARS,
        description:
          'Write exercises: one SELECT run after the answer (and after the reference), its result compared as a query answer is.',
      }),
    ),
    ordered: Type.Optional(
      Type.Boolean({ description: 'Row order counts; default: only when the reference has an ORDER BY.' }),
    ),
    columnNames: Type.Optional(
      Type.Boolean({ description: "Column names must equal the reference's; default false." }),
    ),
    tolerance: Type.Optional(
      Type.Number({ minimum: 0, maximum: 1e9, description: 'Absolute tolerance of number columns; default 0.' }),
    ),
  },
  { additionalProperties: false },
);
export type ExerciseCompare = Static<typeof ExerciseCompare>;

/**
 * `query`: the answer's result set is compared; `write`: the state the answer leaves (named tables, the
 * other tables' digests, the catalog with `schema`, a check query). Default: `write` when `compare` names
 * tables, a check or the schema, else `query`.
 */
export const ExerciseKind = Type.Union([Type.Literal('query'), Type.Literal('write')]);
export type ExerciseKind = Static<typeof ExerciseKind>;

/** A hidden dataset: SQL run after the start state that builds another state of the same schema. */
export const ExerciseDataset = Type.Object(
  {
    name: Type.String({ pattern: DATASET_NAME_PATTERN, description: 'Lower-case letters, digits, `-` and `_`.' }),
    sql: Type.String({ minLength: 1, maxLength: MAX_EXERCISE_STATE_SQL_CHARS }),
  },
  { additionalProperties: false },
);
export type ExerciseDataset = Static<typeof ExerciseDataset>;

/** `POST /api/exercises`: a new draft. */
export const CreateExerciseRequest = Type.Object(
  {
    slug: Type.String({ pattern: SLUG_PATTERN, description: 'Unique name in URLs: lower-case letters, digits, `-`.' }),
    title: Type.String({ minLength: 1, maxLength: MAX_EXERCISE_TITLE_CHARS }),
    task: Type.String({ minLength: 1, maxLength: MAX_EXERCISE_TASK_CHARS, description: 'The task, in Markdown.' }),
    kind: Type.Optional(ExerciseKind),
    setup: Type.Object(
      {
        sql: Type.String({
          maxLength: MAX_EXERCISE_STATE_SQL_CHARS,
          description: 'The start state learners see: SQL that builds the schema and its visible data.',
        }),
      },
      { additionalProperties: false },
    ),
    solution: Type.String({
      minLength: 1,
      maxLength: MAX_EXERCISE_SOLUTION_CHARS,
      description:
        'The reference solution: one SELECT (query exercises), or the statements a write or DDL exercise asks for.',
    }),
    datasets: Type.Optional(
      Type.Array(ExerciseDataset, {
        maxItems: MAX_EXERCISE_DATASETS,
        description: 'Hidden datasets, each run after the start state; names unique.',
      }),
    ),
    compare: Type.Optional(ExerciseCompare),
    minKillScore: Type.Optional(
      Type.Number({
        minimum: 0,
        maximum: 1,
        description: 'Publishing is refused below this kill score (0..1); default 0.',
      }),
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
export type CreateExerciseRequest = Static<typeof CreateExerciseRequest>;

/** A mutant of the reference the datasets did not tell apart. */
export const SurvivingMutant = Type.Object(
  {
    operator: Type.String({ description: 'The kind of change (`order-by`, `comparison`, …).' }),
    label: Type.String({ description: 'What changed, in the clause it changed; what `equivalentMutants` names.' }),
    sql: Type.String(),
  },
  { additionalProperties: false },
);

/** What a publish measured: how many mutants of the reference the datasets tell apart, and which survive. */
export const MutationReport = Type.Object(
  {
    mutants: Type.Integer({ minimum: 0 }),
    killed: Type.Integer({ minimum: 0 }),
    stillborn: Type.Integer({ minimum: 0, description: 'Mutants that failed on every dataset: not counted.' }),
    equivalent: Type.Integer({ minimum: 0, description: 'Mutants the author marked equivalent: not counted.' }),
    unmeasured: Type.Integer({ minimum: 0, description: 'Mutants left unrun when the time budget ran out.' }),
    score: Type.Number({ minimum: 0, maximum: 1, description: 'killed / (killed + survivors); 1 when none counted.' }),
    survivors: Type.Array(SurvivingMutant),
    datasets: Type.Array(
      Type.Object({ name: Type.String(), killed: Type.Integer({ minimum: 0 }) }, { additionalProperties: false }),
    ),
    warnings: Type.Array(Type.String(), { description: "What leaves the reference's own rows to chance." }),
    ms: Type.Number({ description: 'Time the measure took.' }),
  },
  { additionalProperties: false },
);
export type MutationReport = Static<typeof MutationReport>;

/** An exercise as a learner sees it: never the solution or the hidden datasets. */
export const PublishedExercise = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    slug: Type.String(),
    title: Type.String(),
    task: Type.String(),
    kind: ExerciseKind,
    setup: Type.Object({ sql: Type.String() }, { additionalProperties: false }),
    status: Type.Literal('published'),
    publishedAt: Type.String({ format: 'date-time' }),
  },
  { additionalProperties: false },
);
export type PublishedExercise = Static<typeof PublishedExercise>;

/** An exercise as its author (or an admin) sees it: everything, and the last publish's report. */
export const AuthoredExercise = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    slug: Type.String(),
    title: Type.String(),
    task: Type.String(),
    kind: ExerciseKind,
    setup: Type.Object({ sql: Type.String() }, { additionalProperties: false }),
    solution: Type.String(),
    datasets: Type.Array(ExerciseDataset),
    compare: ExerciseCompare,
    minKillScore: Type.Number(),
    equivalentMutants: Type.Array(Type.String()),
    status: Type.Union([Type.Literal('draft'), Type.Literal('published')]),
    authorId: Type.String({ format: 'uuid' }),
    createdAt: Type.String({ format: 'date-time' }),
    publishedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    report: Type.Union([MutationReport, Type.Null()], { description: 'The last publish measure (refused ones too).' }),
  },
  { additionalProperties: false },
);
export type AuthoredExercise = Static<typeof AuthoredExercise>;

/** `GET /api/exercises/{id}`: the author's view to its author or an admin, the learner's view to everyone else. */
export const ExerciseView = Type.Union([AuthoredExercise, PublishedExercise]);
export type ExerciseView = Static<typeof ExerciseView>;

/** `POST /api/exercises/{id}/publish`'s answer: the exercise is published, with the report that allowed it. */
export const PublishResult = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    status: Type.Literal('published'),
    publishedAt: Type.String({ format: 'date-time' }),
    report: MutationReport,
  },
  { additionalProperties: false },
);
export type PublishResult = Static<typeof PublishResult>;

/** Path parameters of an exercise's routes. */
export const ExerciseIdParams = Type.Object({ id: Type.String({ format: 'uuid' }) }, { additionalProperties: false });
export type ExerciseIdParams = Static<typeof ExerciseIdParams>;

/** Characters of an attempt's SQL. */
export const MAX_ATTEMPT_SQL_CHARS = 64 * 1024;

/** `POST /api/exercises/{id}/attempts`: a learner's answer. */
export const AttemptRequest = Type.Object(
  { sql: Type.String({ minLength: 1, maxLength: MAX_ATTEMPT_SQL_CHARS }) },
  { additionalProperties: false },
);
export type AttemptRequest = Static<typeof AttemptRequest>;

const Row = Type.Array(Type.Union([Type.String(), Type.Null()]));
const Columns = Type.Array(Type.Object({ name: Type.String(), type: Type.String() }, { additionalProperties: false }));

/**
 * The verdict on one dataset: passed, or why not, with at most a few rows of each side (2 on a hidden dataset).
 * A write exercise fails by `schema` or `tables` (the state it left), or as a query does by its check query.
 */
export const AttemptCheck = Type.Object(
  {
    dataset: Type.String({
      description: '`start` (the state the learner sees), or `hidden-N` for the N-th hidden one.',
    }),
    passed: Type.Boolean(),
    reason: Type.Optional(
      Type.Union([
        Type.Literal('columns'),
        Type.Literal('rows'),
        Type.Literal('order'),
        Type.Literal('error'),
        Type.Literal('time-limit'),
        Type.Literal('schema'),
        Type.Literal('tables'),
      ]),
    ),
    message: Type.Optional(Type.String()),
    columns: Type.Optional(Type.Object({ expected: Columns, actual: Columns }, { additionalProperties: false })),
    missingCount: Type.Optional(Type.Integer({ minimum: 0 })),
    extraCount: Type.Optional(Type.Integer({ minimum: 0 })),
    missingRows: Type.Optional(Type.Array(Row)),
    extraRows: Type.Optional(Type.Array(Row)),
    orderDiffers: Type.Optional(
      Type.Object(
        { row: Type.Integer({ minimum: 1 }), expected: Type.Optional(Row), actual: Type.Optional(Row) },
        { additionalProperties: false },
      ),
    ),
    tables: Type.Optional(
      Type.Array(
        Type.Object(
          {
            table: Type.String(),
            missingCount: Type.Integer({ minimum: 0 }),
            extraCount: Type.Integer({ minimum: 0 }),
            missingRows: Type.Array(Type.String(), { description: 'A few expected rows, as record text.' }),
            extraRows: Type.Array(Type.String()),
          },
          { additionalProperties: false },
        ),
        { description: 'Write exercises: the named tables whose rows differ from what the reference leaves.' },
      ),
    ),
    otherChanges: Type.Optional(
      Type.Array(Type.String(), {
        description:
          'Write exercises: tables the task leaves as they were that the answer changed, created or dropped.',
      }),
    ),
    schema: Type.Optional(
      Type.Object(
        { missing: Type.Array(Type.String()), extra: Type.Array(Type.String()) },
        {
          additionalProperties: false,
          description: 'Write and DDL exercises: catalog lines the answer lacks and has too many (at most 10 each).',
        },
      ),
    ),
    error: Type.Optional(
      Type.Object(
        {
          sqlstate: Type.String(),
          message: Type.String(),
          line: Type.Integer({ minimum: 1 }),
          column: Type.Integer({ minimum: 1 }),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export type AttemptCheck = Static<typeof AttemptCheck>;

/** `POST /api/exercises/{id}/attempts`'s answer. */
export const AttemptResult = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    passed: Type.Boolean({ description: 'Passed on every dataset.' }),
    checks: Type.Array(AttemptCheck),
    timings: Type.Object({ totalMs: Type.Number() }, { additionalProperties: false }),
  },
  { additionalProperties: false },
);
export type AttemptResult = Static<typeof AttemptResult>;

/** Exercises one list answers at most. */
export const MAX_EXERCISE_LIST = 500;

/** `GET /api/exercises`: one exercise of the catalog. */
export const ExerciseSummary = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    slug: Type.String({
      description: 'Unique among exercises outside packs, or within its pack (`pack`): two packs may both have one.',
    }),
    pack: Type.Optional(Type.String({ description: "The slug of the exercise's pack, when it came in one." })),
    title: Type.String(),
    status: Type.Union([Type.Literal('draft'), Type.Literal('published')]),
    publishedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  },
  { additionalProperties: false },
);
export type ExerciseSummary = Static<typeof ExerciseSummary>;

/** `GET /api/exercises`: published exercises by slug, and to an instructor their own drafts (to an admin all). */
export const ExerciseList = Type.Array(ExerciseSummary, { maxItems: MAX_EXERCISE_LIST });
export type ExerciseList = Static<typeof ExerciseList>;

/** `GET /api/me/progress`: the caller's attempts per exercise and when each was first solved. */
export const ProgressList = Type.Array(
  Type.Object(
    {
      exerciseId: Type.String({ format: 'uuid' }),
      slug: Type.String(),
      title: Type.String(),
      attempts: Type.Integer({ minimum: 0 }),
      firstSolvedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    },
    { additionalProperties: false },
  ),
  { maxItems: MAX_EXERCISE_LIST },
);
export type ProgressList = Static<typeof ProgressList>;

/** `PUT /api/exercises/{id}`: the exercise as a whole, validated as `POST` validates it. */
export const UpdateExerciseRequest = CreateExerciseRequest;
export type UpdateExerciseRequest = CreateExerciseRequest;

/** Groups of wrong answers `GET /api/exercises/{id}/stats` answers at most. */
export const MAX_WRONG_ANSWER_GROUPS = 10;

/** `GET /api/exercises/{id}/stats`: how learners fare, and the most common wrong results (author and admins). */
export const ExerciseStats = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    attempts: Type.Integer({ minimum: 0 }),
    learners: Type.Integer({ minimum: 0, description: 'Distinct accounts that attempted it.' }),
    solved: Type.Integer({ minimum: 0, description: 'Distinct accounts with a passing attempt.' }),
    solveRate: Type.Number({ minimum: 0, maximum: 1, description: 'solved / learners; 0 when nobody attempted.' }),
    wrongAnswers: Type.Array(
      Type.Object(
        {
          digest: Type.String({
            description:
              'What the answers of the group returned on every dataset (their verdict and a digest of their result or state per dataset): answers written differently that returned the same fall in one group.',
          }),
          attempts: Type.Integer({ minimum: 1 }),
          learners: Type.Integer({ minimum: 1 }),
          lastAt: Type.String({ format: 'date-time' }),
          example: Type.Object(
            {
              sql: Type.String({ description: 'The first answer of the group.' }),
              checks: Type.Array(AttemptCheck),
            },
            { additionalProperties: false },
          ),
        },
        { additionalProperties: false },
      ),
      {
        maxItems: MAX_WRONG_ANSWER_GROUPS,
        description: 'The most common wrong results, most attempts first, so one hint can answer a whole group.',
      },
    ),
  },
  { additionalProperties: false },
);
export type ExerciseStats = Static<typeof ExerciseStats>;
