/**
 * The chain model: SQL files turned into keyed steps exactly as PostgreSQL
 * (and psql running them with -f) would read them. No HTTP, no I/O.
 */
export { CANONICAL_FORMAT_VERSION, canonicalize } from './canonical.js';
export {
  CHAIN_ERROR_CODES,
  ChainError,
  ChainIncludeError,
  ChainMetaCommandError,
  ChainStatementError,
  ChainSyntaxError,
  type ChainErrorCode,
  type ChainErrorLocation,
} from './errors.js';
export { computeBaseKey, type ChainOptions } from './keys.js';
export { loadParser, planChain, type Chain, type SourceFile, type Step } from './plan.js';
export { MAX_INCLUDE_DEPTH } from './split.js';
