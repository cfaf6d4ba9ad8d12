import { KIT_ERROR_CODES } from '@taidon/kit';
import { CHAIN_ERROR_CODES } from './domain/chain/index.js';

/** Every code sql-runner answers with; each is documented in services/sql-runner/README.md (checked by a test). */
export const SQL_RUNNER_ERROR_CODES: Record<string, string> = {
  ...KIT_ERROR_CODES,
  ...Object.fromEntries(CHAIN_ERROR_CODES.map((entry) => [entry.code, entry.meaning])),
};
