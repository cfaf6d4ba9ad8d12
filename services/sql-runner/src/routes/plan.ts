import { PlanRequest, PlanResponse, Problem, UnplannableProblem } from '@taidon/contracts';
import { ACCOUNT_HEADER } from '@taidon/kit';
import type { FastifyInstance } from 'fastify';
import type { SnapshotCacheClient } from '../clients/snapshot-cache.js';
import type { EngineIdentity } from '../domain/engine.js';
import { planInput } from '../domain/plan.js';
import type { ProjectTails } from '../domain/projects/project-tails.js';
import type { Planner } from '../planner/pool.js';

/** Largest plan request body, in bytes: a ~32 MB seed script plus JSON escaping. */
export const PLAN_BODY_LIMIT_BYTES = 64 * 1024 * 1024;

/** `POST /plan`: the steps and keys of a chain (given whole, or a project's scripts), before anything runs. */
export function registerPlanRoutes(
  app: FastifyInstance,
  engine: EngineIdentity,
  planner: Planner,
  projects: ProjectTails,
  cache?: SnapshotCacheClient,
): void {
  app.post<{ Body: PlanRequest }>(
    '/plan',
    {
      bodyLimit: PLAN_BODY_LIMIT_BYTES,
      schema: {
        body: PlanRequest,
        // 404, 413 and a 422 without a position: a project tail's, as vcs-sync answered (not the account's
        // project, scripts past the bounds, a `ref` the project lacks).
        response: { 200: PlanResponse, 404: Problem, 413: Problem, 422: UnplannableProblem },
      },
    },
    async (request) => {
      const owner = request.headers[ACCOUNT_HEADER];
      return planInput(request.body, engine, planner, {
        cache,
        requestId: request.id,
        owner: typeof owner === 'string' && owner !== '' ? owner : undefined,
        projects,
      });
    },
  );
}
