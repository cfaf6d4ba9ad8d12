import { catalogueErrorClass, type ErrorCatalogue, KIT_ERROR_CATALOGUE } from '@taidon/kit';

/**
 * Every code the exercises service answers with, its status and its
 * meaning: the error class below, the README's errors table and
 * test/readme.test.ts all read it.
 */
export const EXERCISES_ERROR_CODES = {
  ...KIT_ERROR_CATALOGUE,
  EXERCISES_ACCOUNT_REQUIRED: {
    status: 400,
    meaning: 'The request names no account (`x-taidon-account`); every exercise route acts for one.',
  },
  EXERCISES_FORBIDDEN: {
    status: 403,
    meaning:
      'The caller may not do this: authoring needs the `instructor` or `admin` role, publishing the exercise’s author or an admin.',
  },
  EXERCISES_NOT_FOUND: {
    status: 404,
    meaning: 'No exercise has this id, or it is a draft and the caller is neither its author nor an admin.',
  },
  EXERCISES_SLUG_TAKEN: { status: 409, meaning: 'Another exercise already has this slug.' },
  EXERCISES_DATASET_NAMES: { status: 422, meaning: 'Two hidden datasets have the same name (`name`).' },
  EXERCISES_COMPARE_KIND: {
    status: 422,
    meaning:
      'A query exercise (`kind: query`) asks for a state comparison (`compare.tables`, `schema` or `check`), which only write exercises have.',
  },
  EXERCISES_CHECK_NOT_A_QUERY: {
    status: 422,
    meaning: 'A write exercise’s check query (`compare.check`) does not parse as exactly one SELECT (`cause`).',
  },
  EXERCISES_SETUP_FAILED: {
    status: 422,
    meaning:
      'The start state or a hidden dataset (`dataset`; `start` for the start state) fails while its state is built: `sqlstate`, `message`, `line`, `column` of the failing statement.',
  },
  EXERCISES_REFERENCE_FAILED: {
    status: 422,
    meaning:
      'The reference solution fails on a dataset (`dataset`): `sqlstate`, `message`, `line`, `column`; nothing was published.',
  },
  EXERCISES_KILL_SCORE_TOO_LOW: {
    status: 422,
    meaning:
      'The datasets tell too few mutants of the reference apart: `score` is below the exercise’s `minKillScore`; `report` lists the survivors. Nothing was published; add datasets that kill them, or mark equivalent ones.',
  },
  EXERCISES_GRADER_BUSY: {
    status: 503,
    meaning:
      'sql-runner has no throwaway clone free for this account or at all, or this process measures as many publishes as it may (`retryAfterSeconds`); try again in a moment.',
  },
  EXERCISES_GRADING_UNAVAILABLE: {
    status: 503,
    meaning:
      'An attempt could not be graded: a state of the exercise (its start state or a hidden dataset) failed to build. Nothing about the dataset is answered; the service logs it for the author.',
  },
  EXERCISES_PUBLICATION_CHANGED: {
    status: 409,
    meaning:
      'The exercise was unpublished, or published by another publish, while this publish measured it (`status`: where it stands now); nothing was published: publish again if it should be.',
  },
  EXERCISES_REFERENCE_SYNTAX: {
    status: 422,
    meaning: 'The reference solution does not parse as PostgreSQL SQL.',
  },
  EXERCISES_REFERENCE_NOT_A_QUERY: {
    status: 422,
    meaning:
      'A query exercise’s reference solution is not exactly one SELECT (WITH, VALUES and set operations count as one).',
  },
  EXERCISES_REFERENCE_TOO_LARGE: {
    status: 422,
    meaning:
      'The reference query returns more rows than answers are compared on (`limit` says how many); the task should ask for fewer.',
  },
  EXERCISES_STATE_TOO_LARGE: {
    status: 422,
    meaning:
      'A table named for a write exercise holds more rows than the comparison reads (`limit` says how many), or the reference’s state could not be read whole: sql-runner cut the read at its row or byte bound (RUN_MAX_ROWS, RUN_MAX_BYTES; `table`, `rows` it has, `rowsRead`, or `read` for another read cut). Nothing is published; a check query should compare such a table instead.',
  },
  EXERCISES_PACK_TOO_LARGE: {
    status: 422,
    meaning:
      'The pack holds more exercises than a pack may (`limit`, `count`: at most 100), or more text than it may (`limitBytes`, `bytes`: setup, tasks, solutions and datasets together, 16 MiB). Nothing was stored.',
  },
  EXERCISES_PACK_SLUGS: {
    status: 422,
    meaning:
      'Two exercises of the pack, or two datasets of one exercise, share a name (`slug`, `dataset`). Nothing was stored.',
  },
  EXERCISES_PACK_EXISTS: {
    status: 409,
    meaning:
      'A pack with this slug was imported already (`id`; `yours`: whether by the caller’s own account); its exercises are kept as they are.',
  },
  EXERCISES_PACK_FILE: {
    status: 422,
    meaning:
      'A file of a pack or of a project’s `exercises/` is missing or malformed (`path`): pack.yaml, setup.sql, an exercise’s exercise.yaml, task.md, solution.sql or a dataset it names; or a value in one the pack contract refuses (`field`, as a pack sent as JSON is checked: kind, compare, minKillScore, equivalentMutants, at most 8 datasets, a check query of at most 16 KiB, table names).',
  },
  EXERCISES_PROJECTS_UNAVAILABLE: {
    status: 503,
    meaning: 'A pack is asked from a project, but this service is not configured to read projects (VCS_SYNC_URL).',
  },
  EXERCISES_PACK_BUDGET_SPENT: {
    status: 503,
    meaning:
      "Only as the `refused.code` of a pack's exercise: it was not measured, the pack's publish budget (EXERCISES_PACK_PUBLISH_BUDGET_MS) was spent first; it stays a draft, to publish on its own.",
  },
} as const satisfies ErrorCatalogue;

/** The error the exercises service throws; its code is one of EXERCISES_ERROR_CODES. */
export class ExercisesError extends catalogueErrorClass(EXERCISES_ERROR_CODES) {}
