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
export { loadParser } from './domain/sql/tree.js';
export { EXERCISES_ERROR_CODES, ExercisesError } from './errors.js';
