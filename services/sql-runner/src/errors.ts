import { KIT_ERROR_CODES } from '@taidon/kit';
import { CHAIN_ERROR_CODES } from './domain/chain/errors.js';
import { PLANNER_ERROR_CODES } from './planner/errors.js';

/** Every code sql-runner answers with; each is documented in services/sql-runner/README.md (checked by a test). */
export const SQL_RUNNER_ERROR_CODES: Record<string, string> = {
  ...KIT_ERROR_CODES,
  ...Object.fromEntries(CHAIN_ERROR_CODES.map((entry) => [entry.code, entry.meaning])),
  ...PLANNER_ERROR_CODES,
  SQL_RUNNER_RUN_NOT_FOUND:
    'No run with this id is in progress for the caller (404); finished runs cannot be cancelled.',
  SQL_RUNNER_SESSION_NOT_FOUND: 'The session id belongs to no session of the caller (404).',
  SQL_RUNNER_RUN_RATE_EXCEEDED:
    'The account started `runsPerMinute` runs in the last minute, on any replica (429); `Retry-After` says when the next may start.',
  SQL_RUNNER_INSTANCE_QUOTA_EXCEEDED:
    'The run needs a new instance and runs are using every instance the account may hold (429, Retry-After); wait for one to finish.',
  SQL_RUNNER_OPEN_RUNS_EXCEEDED:
    'The account has as many runs open as it may (RUN_MAX_OPEN_PER_ACCOUNT, 429, Retry-After); wait for one to finish.',
};
