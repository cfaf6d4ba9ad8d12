import { SqlRunnerApi } from '@taidon/contracts';
import { ACCOUNT_HEADER, batchRefusalOf, UnauthorizedError } from '@taidon/kit';
import type { FastifyInstance } from 'fastify';
import type { ChainOptions } from '../domain/chain/index.js';
import { sourceFiles } from '../domain/plan.js';
import type { RunnerDeps } from '../domain/runs/context.js';
import type { Shares } from '../domain/shares/shares.js';
import type { ThrowawayClones } from '../domain/throwaway/clones.js';
import { runThrowawayQueries } from '../domain/throwaway/queries.js';
import type { Planner } from '../planner/pool.js';
import { withRetryAfter } from './throwaway-refusals.js';

/** Path given to entry `i` in errors. */
const entryPath = (i: number) => `entry-${i + 1}.sql`;
/** Path given to read `j` of entry `i`. */
const readPath = (i: number, j: number) => `entry-${i + 1}-read-${j + 1}.sql`;

/**
 * `POST /throwaway/queries` (internal: a service token, never routed by the
 * gateway): a grader's SQL, each entry on its own throwaway clone of the
 * tail's state (ADR 0031), answered as JSON. The tail is planned first (its
 * syntax error is a 422 with its place), its state found or built once;
 * an entry's own planning or server error is that entry's answer. An
 * entry's `reads` run after its SQL on the same clone, each answered
 * on its own (a grader reads the state a write left). Bounded
 * by the account's and the runner's throwaway slots (429/503, Retry-After;
 * a state held warm counts against the graders' allowance instead, ADR 0044),
 * the runs' row, byte, time and disk caps. `POST /throwaway/query-batches`
 * takes several such requests of one account in one round trip (an
 * attempt's datasets, ADR 0056) and answers each as this route would, its
 * refusal included.
 */
export function registerThrowawayQueryRoutes(
  app: FastifyInstance,
  deps: RunnerDeps,
  clones: ThrowawayClones,
  planner: Planner,
  shares: Shares,
  chainOptions: ChainOptions,
  grading?: {
    /** The allowance of a grader's clones of layers held warm (THROWAWAY_GRADER_MAX_PER_ACCOUNT, ADR 0044). */
    clones: ThrowawayClones;
    /** Whether this runner keeps started instances of `key` (a published exercise's state). */
    warm(key: string): boolean;
    /** Whether `key` is held warm with its layer pinned, so it needs no lookup (LayerHolds.heldPinned). */
    pinned(key: string): boolean;
  },
): void {
  /** One request of the route (or of a batch), for `ownerId`: planned, bounded and run as the route says. */
  const answer = async (
    body: SqlRunnerApi.ThrowawayQueriesRequest,
    ownerId: string,
    requestId: string,
  ): Promise<SqlRunnerApi.ThrowawayQueriesResponse> => {
    const tailInput = await shares.resolveTail(body.tail, ownerId);
    const tail = await planner.plan(tailInput ? sourceFiles(tailInput) : [], chainOptions, ownerId);
    const { statements } = body;
    // A state held warm: its entries take started instances (no spawn), counted against the graders' allowance.
    const bound = grading?.warm(tail.finalKey) ? grading.clones : clones;
    const pinned = grading?.pinned(tail.finalKey) ?? false;
    return runThrowawayQueries(deps, bound, {
      ownerId,
      requestId,
      tail,
      ...(pinned ? { pinned } : {}),
      entries: statements.length,
      timeoutMs: Math.min(body.timeoutMs ?? deps.statementTimeoutMs, deps.statementTimeoutMs),
      planEntry: (i) =>
        // The account's own queue: its entries wait behind each other, never in front of other accounts.
        planner.plan(
          [{ path: entryPath(i), sql: statements[i]?.sql ?? '' }],
          { ...chainOptions, startKey: tail.finalKey },
          ownerId,
        ),
      readCount: (i) => statements[i]?.reads?.length ?? 0,
      planRead: (i, j) =>
        planner.plan(
          [{ path: readPath(i, j), sql: statements[i]?.reads?.[j]?.sql ?? '' }],
          { ...chainOptions, startKey: tail.finalKey },
          ownerId,
        ),
    });
  };
  const accountOf = (headers: Record<string, unknown>): string => {
    const ownerId = headers[ACCOUNT_HEADER];
    if (typeof ownerId !== 'string' || ownerId === '')
      throw new UnauthorizedError('UNAUTHORIZED', 'Throwaway queries need the account they run for.');
    return ownerId;
  };

  app.post<{ Body: SqlRunnerApi.ThrowawayQueriesRequest }>(
    '/throwaway/queries',
    {
      schema: { body: SqlRunnerApi.ThrowawayQueriesRequest, response: { 200: SqlRunnerApi.ThrowawayQueriesResponse } },
      bodyLimit: 64 * 1024 * 1024,
    },
    async (request, reply) => {
      const ownerId = accountOf(request.headers);
      return withRetryAfter(reply, () => answer(request.body, ownerId, request.id));
    },
  );

  app.post<{ Body: SqlRunnerApi.ThrowawayQueryBatchRequest }>(
    '/throwaway/query-batches',
    {
      schema: {
        body: SqlRunnerApi.ThrowawayQueryBatchRequest,
        response: { 200: SqlRunnerApi.ThrowawayQueryBatchResponse },
      },
      bodyLimit: 64 * 1024 * 1024,
    },
    async (request) => {
      const ownerId = accountOf(request.headers);
      // All at once, as that many requests of the account would run: each reserves its own slots, so a batch
      // holds no more clones than the account's bound, and a request refused for want of them is that
      // request's refusal (its retryAfterSeconds in its details), not the batch's.
      const settled = await Promise.allSettled(request.body.requests.map((r) => answer(r, ownerId, request.id)));
      const answers = settled.map((outcome): SqlRunnerApi.ThrowawayQueryBatchResponse['answers'][number] => {
        if (outcome.status === 'fulfilled') return { ok: true, answer: outcome.value };
        // What the error handler would answer as a 5xx with no meaning of its own is the batch's failure.
        const refusal = batchRefusalOf(outcome.reason);
        if (!refusal) throw outcome.reason;
        return refusal;
      });
      return { answers };
    },
  );
}
