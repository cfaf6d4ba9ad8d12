import { type RunTail, SqlRunnerApi } from '@taidon/contracts';
import {
  ACCOUNT_HEADER,
  callService,
  DomainError,
  errorOfBatchRefusal,
  ROLE_HEADER,
  type ServiceEndpoint,
  TurnBatches,
} from '@taidon/kit';
import { ExercisesError } from '../errors.js';

/** Codes of sql-runner's full throwaway bounds: the grader is busy, not wrong. */
const BUSY = new Set(['SQL_RUNNER_THROWAWAY_ACCOUNT_BUSY', 'SQL_RUNNER_THROWAWAY_BUSY']);

/** The client side of sql-runner's `POST /throwaway/queries` (and its batches), acting for one account. */
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

/** Who a call acts for: the account its clones count against, its role, the request it belongs to. */
type Caller = { accountId: string; role: string; requestId?: string };

/** A full throwaway bound of sql-runner is EXERCISES_GRADER_BUSY here: the grader is busy, not wrong. */
function graderError(error: unknown): unknown {
  if (error instanceof DomainError && BUSY.has(error.code)) {
    return new ExercisesError('EXERCISES_GRADER_BUSY', 'Every grading instance is in use; try again in a moment.', {
      details: { retryAfterSeconds: error.details.retryAfterSeconds ?? 1 },
    });
  }
  return error;
}

/**
 * sql-runner's grader routes over HTTP: the service token, the account the
 * clones count against. The calls of one caller made in the same turn of the
 * event loop (an attempt's datasets, started together) go in one
 * `POST /throwaway/query-batches` (ADR 0056), each answered or refused as
 * `POST /throwaway/queries` would have: a full throwaway bound becomes
 * EXERCISES_GRADER_BUSY (503); a tail that fails is answered as sql-runner's
 * own problem, which the caller maps to the dataset it was building.
 */
export function sqlRunnerQueries(endpoint: ServiceEndpoint): ThrowawayQueries {
  const batches = new TurnBatches<
    { request: SqlRunnerApi.ThrowawayQueriesRequest; as: Caller },
    SqlRunnerApi.ThrowawayQueriesResponse
  >(SqlRunnerApi.MAX_THROWAWAY_BATCH, async (_key, items) => {
    const as = (items[0] as { as: Caller }).as;
    let answers: SqlRunnerApi.ThrowawayQueryBatchResponse['answers'];
    try {
      ({ answers } = await callService<SqlRunnerApi.ThrowawayQueryBatchResponse>(endpoint, '/throwaway/query-batches', {
        body: { requests: items.map((i) => i.request) },
        headers: { [ACCOUNT_HEADER]: as.accountId, [ROLE_HEADER]: as.role },
        ...(as.requestId ? { requestId: as.requestId } : {}),
      }));
    } catch (error) {
      throw graderError(error);
    }
    return answers.map((answer) =>
      answer.ok ? { ok: true, value: answer.answer } : { ok: false, error: graderError(errorOfBatchRefusal(answer)) },
    );
  });
  return {
    run(request, as) {
      return batches.call(`${as.accountId}\n${as.role}\n${as.requestId ?? ''}`, { request, as });
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
