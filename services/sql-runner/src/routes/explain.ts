import { ExplainRequest } from '@taidon/contracts';
import { ACCOUNT_HEADER, UnauthorizedError } from '@taidon/kit';
import type { FastifyInstance } from 'fastify';
import type { ChainOptions } from '../domain/chain/index.js';
import { explainStatement, oneStatement } from '../domain/explain/explain.js';
import { sourceFiles } from '../domain/plan.js';
import type { RunnerDeps } from '../domain/runs/context.js';
import type { Shares } from '../domain/shares/shares.js';
import type { ThrowawayClones } from '../domain/throwaway/clones.js';
import type { Planner } from '../planner/pool.js';
import { withRetryAfter } from './throwaway-refusals.js';

/** Path given to the explained statement in errors. */
export const EXPLAIN_PATH = 'statement.sql';

/**
 * `POST /explain`: EXPLAIN (ANALYZE, BUFFERS) of one statement on a
 * throwaway clone of the session's current state or of the tail's (ADR
 * 0031), in JSON and in text. The text is planned first (a syntax error is
 * a 422 with its place, more than one statement a 400), then the state is
 * found or built, then the clone made and deleted.
 */
export function registerExplainRoutes(
  app: FastifyInstance,
  deps: RunnerDeps,
  clones: ThrowawayClones,
  planner: Planner,
  shares: Shares,
  chainOptions: ChainOptions,
): void {
  app.post<{ Body: ExplainRequest }>(
    '/explain',
    { schema: { body: ExplainRequest }, bodyLimit: 64 * 1024 * 1024 },
    async (request, reply) => {
      const ownerId = request.headers[ACCOUNT_HEADER];
      if (typeof ownerId !== 'string' || ownerId === '')
        throw new UnauthorizedError('UNAUTHORIZED', 'An EXPLAIN needs the account it runs for.');
      const tailInput = await shares.resolveTail(request.body.tail, ownerId);
      const tail = await planner.plan(tailInput ? sourceFiles(tailInput) : [], chainOptions, ownerId);
      const statement = oneStatement(
        await planner.plan(
          [{ path: EXPLAIN_PATH, sql: request.body.statement }],
          { ...chainOptions, startKey: tail.finalKey },
          ownerId,
        ),
      );
      return withRetryAfter(reply, () =>
        explainStatement(deps, clones, {
          ownerId,
          sessionId: request.body.session,
          tail,
          statement,
          requestId: request.id,
        }),
      );
    },
  );
}
