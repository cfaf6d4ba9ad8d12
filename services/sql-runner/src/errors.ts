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
  [SHARE_ERROR_CODES.resultsTooLarge]: {
    status: 422,
    meaning:
      'The results a link was asked to carry take more than SHARE_RESULTS_MAX_CHARS (256 Ki) characters of JSON; share fewer rows, or the link without them.',
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
  SQL_RUNNER_THROWAWAY_ACCOUNT_BUSY: {
    status: 429,
    meaning:
      'The account already holds THROWAWAY_MAX_PER_ACCOUNT throwaway clones on this runner (project tests, EXPLAIN), or THROWAWAY_GRADER_MAX_PER_ACCOUNT grading clones of warm held layers (Retry-After); wait for them to finish. Nothing ran.',
  },
  SQL_RUNNER_THROWAWAY_BUSY: {
    status: 503,
    meaning:
      'The runner holds THROWAWAY_MAX throwaway clones for all accounts (Retry-After); try again in a moment. Nothing ran.',
  },
  SQL_RUNNER_THROWAWAY_STATE_OPEN: {
    status: 422,
    meaning:
      'The chain whose state a throwaway clone needs ends inside a transaction block, where no layer can be taken; end the transaction in the chain.',
  },
  SQL_RUNNER_THROWAWAY_TAIL_FAILED: {
    status: 422,
    meaning:
      "A statement of the tail whose state a throwaway clone needs failed while the state was built (`sqlstate`, `statement`, `path`, `line`, `column` of the tail's step); fix the tail. Nothing of the learner's changed.",
  },
  SQL_RUNNER_THROWAWAY_USE_TIMEOUT: {
    status: 422,
    meaning:
      "In a project test file's failure (POST /projects/:id/tests): the file ran past THROWAWAY_USE_MAX_MS in all and its statement then running was cancelled (SQLSTATE 57014). A grader's entry says `timedOut` instead.",
  },
  SQL_RUNNER_THROWAWAY_SESSION_UNAVAILABLE: {
    status: 409,
    meaning:
      "The session's current state has no cached layer and the storage driver (copy) would have to stop the learner's instance to take one; explain from a tail instead.",
  },
  SQL_RUNNER_EXPLAIN_ONE_STATEMENT: {
    status: 400,
    meaning:
      'EXPLAIN takes exactly one SQL statement; the text has none or several (`steps` says how many), or a meta-command.',
  },
  SQL_RUNNER_EXPLAIN_SQL_ERROR: {
    status: 422,
    meaning:
      'PostgreSQL refused or failed the EXPLAIN ANALYZE of the statement on its throwaway clone: `sqlstate`, `message`, `position`, `line`, `column` (in the statement), `hint` as runs report them; 57014 when the statement ran past RUN_STATEMENT_TIMEOUT_MS.',
  },
  SQL_RUNNER_EXPLAIN_TOO_LARGE: {
    status: 422,
    meaning: 'The plan has more lines or bytes than one result may have (RUN_MAX_ROWS, RUN_MAX_BYTES).',
  },
  SQL_RUNNER_TESTS_TOO_MANY_FILES: {
    status: 422,
    meaning: 'The project has more test/ and bench/ files than one request runs (`max`, 200); nothing ran.',
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
