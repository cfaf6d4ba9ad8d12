import { PlanInput, PlanResponse, Problem, SqlProblem } from '@taidon/contracts';
import type { FastifyInstance } from 'fastify';
import { forward, type Upstream } from '../upstream.js';

/** Largest plan request body, in bytes (a ~32 MB script plus JSON escaping). */
const PLAN_BODY_LIMIT_BYTES = 64 * 1024 * 1024;

/** `POST /api/plan`, answered by sql-runner. */
export function registerPlanRoutes(app: FastifyInstance, sqlRunner: Upstream): void {
  app.post<{ Body: PlanInput }>(
    '/api/plan',
    {
      bodyLimit: PLAN_BODY_LIMIT_BYTES,
      schema: {
        summary: 'Split and key a chain before anything runs: its steps, their positions and state keys.',
        tags: ['runs'],
        security: [{ bearerAuth: [] }],
        body: PlanInput,
        response: { 200: PlanResponse, 401: Problem, 422: SqlProblem },
      },
    },
    async (request, reply) => forward(sqlRunner, request, reply, '/plan', request.body),
  );
}
