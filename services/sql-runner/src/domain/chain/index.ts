/**
 * The chain model: SQL files turned into keyed steps exactly as PostgreSQL
 * (and psql running them with -f) would read them. No HTTP, no I/O.
 */
export { CANONICAL_FORMAT_VERSION, canonicalize } from './canonical.js';
export {
  CHAIN_ERROR_CODES,
  ChainError,
  type ChainErrorCode,
  type ChainErrorLocation,
  ChainIncludeError,
  ChainMetaCommandError,
  ChainStatementError,
  ChainSyntaxError,
} from './errors.js';
export { type ChainOptions, computeBaseKey } from './keys.js';
export { type Chain, loadParser, planChain, type SourceFile, type Step } from './plan.js';
export { MAX_INCLUDE_DEPTH } from './split.js';
