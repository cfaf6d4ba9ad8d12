import { type RunTail, SqlRunnerApi } from '@taidon/contracts';
import { ACCOUNT_HEADER, callService, DomainError, ROLE_HEADER, type ServiceEndpoint } from '@taidon/kit';
import { ExercisesError } from '../errors.js';

/** Codes of sql-runner's full throwaway bounds: the grader is busy, not wrong. */
const BUSY = new Set(['SQL_RUNNER_THROWAWAY_ACCOUNT_BUSY', 'SQL_RUNNER_THROWAWAY_BUSY']);

/** The client side of sql-runner's `POST /throwaway/queries`, acting for one account. */
export interface ThrowawayQueries {
  run(
    request: SqlRunnerApi.ThrowawayQueriesRequest,
    as: { accountId: string; role: string; requestId?: string },
  ): Promise<SqlRunnerApi.ThrowawayQueriesResponse>;
  /**
   * Holds layers for `holder` (pinned, `warm` started instances each kept ready), replacing what it held:
   * sql-runner's `PUT /layer-holds/:holder` (ADR 0044). Absent: nothing is pinned or kept warm.
   */
  hold?(holder: string, keys: string[], warm: number, requestId?: string): Promise<SqlRunnerApi.LayerHoldResponse>;
  /** Lets go of everything `holder` holds (`DELETE /layer-holds/:holder`). */
  release?(holder: string, requestId?: string): Promise<void>;
}

/**
 * sql-runner's grader route over HTTP: the service token, the account the
 * clones count against. A full throwaway bound becomes EXERCISES_GRADER_BUSY
 * (503); a tail that fails is answered as sql-runner's own problem, which
 * the caller maps to the dataset it was building.
 */
export function sqlRunnerQueries(endpoint: ServiceEndpoint): ThrowawayQueries {
  return {
    async run(request, as) {
      try {
        return await callService<SqlRunnerApi.ThrowawayQueriesResponse>(endpoint, '/throwaway/queries', {
          body: request,
          headers: { [ACCOUNT_HEADER]: as.accountId, [ROLE_HEADER]: as.role },
          ...(as.requestId ? { requestId: as.requestId } : {}),
        });
      } catch (error) {
        if (error instanceof DomainError && BUSY.has(error.code)) {
          throw new ExercisesError(
            'EXERCISES_GRADER_BUSY',
            'Every grading instance is in use; try again in a moment.',
            {
              details: { retryAfterSeconds: error.details.retryAfterSeconds ?? 1 },
            },
          );
        }
        throw error;
      }
    },
    hold(holder, keys, warm, requestId) {
      return callService<SqlRunnerApi.LayerHoldResponse>(endpoint, `/layer-holds/${holder}`, {
        method: 'PUT',
        body: { keys, warm },
        ...(requestId ? { requestId } : {}),
      });
    },
    async release(holder, requestId) {
      await callService(endpoint, `/layer-holds/${holder}`, {
        method: 'DELETE',
        ...(requestId ? { requestId } : {}),
      });
    },
  };
}

/** A tail of the start state, and of a hidden dataset on top of it: separate files, so the start state's layer is shared. */
export function datasetTail(setupSql: string, dataset?: { name: string; sql: string }): RunTail {
  const files = [{ path: 'setup.sql', sql: setupSql }];
  if (dataset) files.push({ path: `datasets/${dataset.name}.sql`, sql: dataset.sql });
  return { files };
}

export { SqlRunnerApi };
