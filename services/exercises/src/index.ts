export { buildApp, type ExercisesDeps } from './app.js';
export { sqlRunnerQueries, type ThrowawayQueries } from './clients/sql-runner.js';
export { type ExercisesConfig, exercisesConfigSpec, loadExercisesConfig } from './config.js';
export { compareResults, type ResultCompareOptions, type ResultVerdict } from './domain/compare/compare-results.js';
export { planReference, type ReferencePlan, type SortKeySource } from './domain/compare/reference-order.js';
export type { ResultSet } from './domain/compare/result-set.js';
export {
  compareStates,
  type StateCompareOptions,
  type StateSnapshot,
  type StateVerdict,
  snapshotState,
} from './domain/compare/state.js';
export { DEFAULT_MAX_MUTANTS, generateMutants, type Mutant } from './domain/mutants/generate.js';
export {
  type DatasetRunner,
  type MeasureOptions,
  type MutationReport,
  measureMutants,
  QueryFailed,
} from './domain/mutants/measure.js';
export type { MutantOperator } from './domain/mutants/operators.js';
export { readPackDirectory } from './domain/packs/directory.js';
export { MAX_PACK_FILES, type PackFiles, packFromFiles } from './domain/packs/files.js';
export { measureExercise } from './domain/publish.js';
export { loadParser } from './domain/sql/tree.js';
export { EXERCISES_ERROR_CODES, ExercisesError } from './errors.js';
export { EXERCISES_MIGRATIONS_DIR, migrateExercises } from './migrate.js';
export { type StartedExercises, startExercises } from './start.js';
