/**
 * The chain model: SQL files turned into keyed steps exactly as PostgreSQL
 * (and psql running them with -f) would read them. No HTTP, no I/O.
 * Importing this module loads the parser's WASM (~140 MB): the service's main
 * thread imports only types from here, and values from keys.js, errors.js and
 * limits.js; planning itself runs in the planner's workers (src/planner/).
 */
export { CANONICAL_FORMAT_VERSION, canonicalize } from './canonical.js';
export {
  CHAIN_ERROR_CODES,
  ChainError,
  type ChainErrorCode,
  type ChainErrorLocation,
  ChainIncludeError,
  ChainLimitError,
  ChainMetaCommandError,
  ChainStatementError,
  ChainSyntaxError,
  ChainTextError,
  type PlanLimitName,
} from './errors.js';
export { type ChainOptions, computeBaseKey, emptyChain } from './keys.js';
export { DEFAULT_PLAN_LIMITS, type PlanLimits } from './limits.js';
export { type Chain, loadParser, planChain, type SourceFile, type Step } from './plan.js';
