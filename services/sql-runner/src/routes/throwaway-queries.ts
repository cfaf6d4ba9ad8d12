import { SqlRunnerApi } from '@taidon/contracts';
import { ACCOUNT_HEADER, UnauthorizedError } from '@taidon/kit';
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
 * the runs' row, byte, time and disk caps.
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
  app.post<{ Body: SqlRunnerApi.ThrowawayQueriesRequest }>(
    '/throwaway/queries',
    {
      schema: { body: SqlRunnerApi.ThrowawayQueriesRequest, response: { 200: SqlRunnerApi.ThrowawayQueriesResponse } },
      bodyLimit: 64 * 1024 * 1024,
    },
    async (request, reply) => {
      const ownerId = request.headers[ACCOUNT_HEADER];
      if (typeof ownerId !== 'string' || ownerId === '')
        throw new UnauthorizedError('UNAUTHORIZED', 'Throwaway queries need the account they run for.');
      const tailInput = await shares.resolveTail(request.body.tail, ownerId);
      const tail = await planner.plan(tailInput ? sourceFiles(tailInput) : [], chainOptions, ownerId);
      const { statements } = request.body;
      // A state held warm: its entries take started instances (no spawn), counted against the graders' allowance.
      const bound = grading?.warm(tail.finalKey) ? grading.clones : clones;
      const pinned = grading?.pinned(tail.finalKey) ?? false;
      return withRetryAfter(reply, () =>
        runThrowawayQueries(deps, bound, {
          ownerId,
          requestId: request.id,
          tail,
          ...(pinned ? { pinned } : {}),
          entries: statements.length,
          timeoutMs: Math.min(request.body.timeoutMs ?? deps.statementTimeoutMs, deps.statementTimeoutMs),
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
        }),
      );
    },
  );
}
