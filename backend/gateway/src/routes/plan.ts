import { PlanRequest, PlanResponse, Problem, UnplannableProblem } from '@taidon/contracts';
import type { FastifyInstance } from 'fastify';
import { forward, type Upstream } from '../upstream.js';

/** Largest plan request body, in bytes (a ~32 MB script plus JSON escaping). */
const PLAN_BODY_LIMIT_BYTES = 64 * 1024 * 1024;

/** `POST /api/plan`, answered by sql-runner. */
export function registerPlanRoutes(app: FastifyInstance, sqlRunner: Upstream): void {
  app.post<{ Body: PlanRequest }>(
    '/api/plan',
    {
      bodyLimit: PLAN_BODY_LIMIT_BYTES,
      schema: {
        summary:
          'Split and key a chain before anything runs: its steps, their positions and state keys. The chain is given whole, or is one of your projects (`{ project, ref? }`: its init/ then seed/ scripts).',
        tags: ['runs'],
        security: [{ bearerAuth: [] }],
        body: PlanRequest,
        // 404: a project not yours; 422 also a `ref` the project lacks. A project's scripts past a chain's
        // bounds (413) and project tails this deployment does not serve (503) are among the common refusals.
        response: { 200: PlanResponse, 401: Problem, 404: Problem, 422: UnplannableProblem },
      },
    },
    async (request, reply) => forward(sqlRunner, request, reply, '/plan', request.body),
  );
}
