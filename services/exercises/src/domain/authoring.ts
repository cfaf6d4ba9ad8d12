import type { CreateExerciseRequest, ExerciseCompare, ExerciseKind } from '@taidon/contracts';
import { ExercisesError } from '../errors.js';
import { planReference } from './compare/reference-order.js';
import { parseStatements } from './mutants/write-mutants.js';

/** The options that make an exercise a write exercise: what the state after the answer is compared by. */
const hasWriteCompare = (compare: ExerciseCompare | undefined) =>
  Boolean(compare && ((compare.tables?.length ?? 0) > 0 || compare.schema || compare.check));

/** An exercise's kind: as given, else `write` when its `compare` names tables, the schema or a check query. */
export function exerciseKind(body: Pick<CreateExerciseRequest, 'kind' | 'compare'>): ExerciseKind {
  return body.kind ?? (hasWriteCompare(body.compare) ? 'write' : 'query');
}

/**
 * Checks an exercise as POST and PUT take it, before anything is stored or run: dataset names unique; a
 * query exercise's reference one SELECT and no state comparison asked; a write exercise's reference parses
 * (any statements) and its check query is one SELECT. Answers the exercise's kind.
 */
export function validateExercise(body: CreateExerciseRequest): ExerciseKind {
  const names = new Set<string>();
  for (const dataset of body.datasets ?? []) {
    if (names.has(dataset.name)) {
      throw new ExercisesError('EXERCISES_DATASET_NAMES', `Two hidden datasets are named ${dataset.name}.`, {
        details: { name: dataset.name },
      });
    }
    names.add(dataset.name);
  }
  const kind = exerciseKind(body);
  if (kind === 'query') {
    if (hasWriteCompare(body.compare)) {
      throw new ExercisesError(
        'EXERCISES_COMPARE_KIND',
        'A query exercise compares its result set: `tables`, `schema` and `check` are for write exercises.',
      );
    }
    planReference(body.solution);
    return kind;
  }
  if (parseStatements(body.solution).length === 0) {
    throw new ExercisesError('EXERCISES_REFERENCE_SYNTAX', 'The reference solution holds no statement.');
  }
  if (body.compare?.check) {
    try {
      planReference(body.compare.check);
    } catch (error) {
      if (!(error instanceof ExercisesError)) throw error;
      throw new ExercisesError('EXERCISES_CHECK_NOT_A_QUERY', 'The check query must parse as exactly one SELECT.', {
        details: { cause: error.code },
      });
    }
  }
  return kind;
}
