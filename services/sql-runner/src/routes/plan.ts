import { PlanInput, PlanResponse, SqlProblem } from '@taidon/contracts';
import { ACCOUNT_HEADER } from '@taidon/kit';
import type { FastifyInstance } from 'fastify';
import type { SnapshotCacheClient } from '../clients/snapshot-cache.js';
import type { EngineIdentity } from '../domain/engine.js';
import { planInput } from '../domain/plan.js';
import type { Planner } from '../planner/pool.js';

/** Largest plan request body, in bytes: a ~32 MB seed script plus JSON escaping. */
export const PLAN_BODY_LIMIT_BYTES = 64 * 1024 * 1024;

/** `POST /plan`: the steps and keys of a chain, before anything runs. */
export function registerPlanRoutes(
  app: FastifyInstance,
  engine: EngineIdentity,
  planner: Planner,
  cache?: SnapshotCacheClient,
): void {
  app.post<{ Body: PlanInput }>(
    '/plan',
    {
      bodyLimit: PLAN_BODY_LIMIT_BYTES,
      schema: { body: PlanInput, response: { 200: PlanResponse, 422: SqlProblem } },
    },
    async (request) => {
      const owner = request.headers[ACCOUNT_HEADER];
      return planInput(request.body, engine, planner, {
        cache,
        requestId: request.id,
        owner: typeof owner === 'string' && owner !== '' ? owner : undefined,
      });
    },
  );
}
