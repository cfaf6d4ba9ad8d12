import { catalogueErrorClass } from '@taidon/kit';

/**
 * Every code the exercises domain throws, its status and its meaning: the
 * error class below, the README's errors table and test/readme.test.ts all
 * read it. (The kit's HTTP codes join it when the service gets routes.)
 */
export const EXERCISES_ERROR_CODES = {
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
      'A table named for a write exercise holds more rows than the comparison reads (`limit` says how many); a check query should compare it instead.',
  },
} as const;

/** The error the exercises domain throws; its code is one of EXERCISES_ERROR_CODES. */
export class ExercisesError extends catalogueErrorClass(EXERCISES_ERROR_CODES) {}
