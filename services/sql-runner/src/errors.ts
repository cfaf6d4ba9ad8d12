import { ACCOUNT_ERROR_CODES, SHARE_ERROR_CODES } from '@taidon/contracts';
import { catalogueErrorClass, type ErrorCatalogue, KIT_ERROR_CATALOGUE } from '@taidon/kit';
import { CHAIN_ERROR_CODES, type ChainErrorCode } from './domain/chain/errors.js';
import { PLANNER_ERROR_CODES } from './planner/errors.js';

/** The chain planner's codes keep their SQLSTATE beside them in domain/chain; all are 422 (the script is wrong). */
const CHAIN_CATALOGUE = Object.fromEntries(
  CHAIN_ERROR_CODES.map((entry) => [entry.code, { status: 422, meaning: entry.meaning }]),
) as { readonly [Code in ChainErrorCode]: { readonly status: 422; readonly meaning: string } };

/**
 * Every code sql-runner answers with, its status and its meaning: the error
 * classes, the README's errors table and test/readme.test.ts all read it.
 */
export const SQL_RUNNER_ERROR_CODES = {
  ...KIT_ERROR_CATALOGUE,
  ...CHAIN_CATALOGUE,
  SQL_RUNNER_PLANNER_BUSY: { status: 503, meaning: PLANNER_ERROR_CODES.SQL_RUNNER_PLANNER_BUSY },
  SQL_RUNNER_PLANNER_ACCOUNT_BUSY: { status: 429, meaning: PLANNER_ERROR_CODES.SQL_RUNNER_PLANNER_ACCOUNT_BUSY },
  SQL_RUNNER_RUN_NOT_FOUND: {
    status: 404,
    meaning: 'No run with this id is in progress for the caller; finished runs cannot be cancelled.',
  },
  SQL_RUNNER_SESSION_NOT_FOUND: { status: 404, meaning: 'The session id belongs to no session of the caller.' },
  [ACCOUNT_ERROR_CODES.runRateExceeded]: {
    status: 429,
    meaning:
      'The account started `runsPerMinute` runs in the last minute, on any replica; `Retry-After` says when the next may start.',
  },
  [ACCOUNT_ERROR_CODES.instanceQuotaExceeded]: {
    status: 429,
    meaning:
      'The run needs a new instance and runs are using every instance the account may hold (Retry-After); wait for one to finish.',
  },
  [SHARE_ERROR_CODES.notFound]: {
    status: 404,
    meaning:
      'No live share link has this id: it never existed, was revoked by its owner, or expired (SHARE_TTL_SECONDS); the three are answered alike.',
  },
  [SHARE_ERROR_CODES.limitExceeded]: {
    status: 429,
    meaning:
      'The account holds as many live share links as it may (SHARE_MAX_PER_ACCOUNT, SHARE_MAX_PER_ANONYMOUS for anonymous accounts) or as many characters in them (SHARE_MAX_CHARS_PER_ACCOUNT); revoke one first.',
  },
  [SHARE_ERROR_CODES.rateExceeded]: {
    status: 429,
    meaning:
      'The account made SHARE_CREATE_PER_MINUTE links in the last minute; `Retry-After` and `retryAfterSeconds` say when the next may be made.',
  },
  SQL_RUNNER_PROJECTS_UNAVAILABLE: {
    status: 503,
    meaning:
      'The tail names a project (`{ project }`) and this sql-runner has no VCS_SYNC_URL to read projects from; nothing ran.',
  },
  SQL_RUNNER_OPEN_RUNS_EXCEEDED: {
    status: 429,
    meaning:
      'The account has as many runs open as it may (RUN_MAX_OPEN_PER_ACCOUNT, Retry-After); wait for one to finish.',
  },
} as const satisfies ErrorCatalogue;

/** One of sql-runner's codes. */
export type SqlRunnerErrorCode = keyof typeof SQL_RUNNER_ERROR_CODES;

/**
 * An error sql-runner throws: its code must be in SQL_RUNNER_ERROR_CODES,
 * whose status it answers with. New errors derive from it; the chain's and
 * the planner's keep their own bases, whose codes the catalogue spreads.
 */
export class SqlRunnerError extends catalogueErrorClass(SQL_RUNNER_ERROR_CODES) {}
