import { ExplainRequest, ExplainResponse, Problem, UnplannableProblem } from '@taidon/contracts';
import type { FastifyInstance } from 'fastify';
import { forward, type Upstream } from '../upstream.js';

/** A tail may be a `{ files }` chain of a run's size. */
const EXPLAIN_BODY_LIMIT_BYTES = 64 * 1024 * 1024;

/**
 * `POST /api/explain`, answered by sql-runner: EXPLAIN (ANALYZE, BUFFERS) of
 * one statement on a throwaway clone (ADR 0031), so ANALYZE of a write
 * changes nothing of the learner's.
 */
export function registerExplainRoutes(app: FastifyInstance, sqlRunner: Upstream): void {
  app.post<{ Body: ExplainRequest }>(
    '/api/explain',
    {
      bodyLimit: EXPLAIN_BODY_LIMIT_BYTES,
      schema: {
        summary:
          "EXPLAIN (ANALYZE, BUFFERS) of one statement, in JSON and text, on a throwaway clone of the session instance's current state (or of the tail's); the learner's instance and every layer stay as they were.",
        tags: ['runs'],
        security: [{ bearerAuth: [] }],
        body: ExplainRequest,
        // 400: more or less than one statement. 404: a session, share link or project not the caller's. 409: the
        // session's state cannot be snapshotted on this storage driver. 413: a project tail past a chain's bounds. 422: the statement's or the tail's SQL
        // (planning errors, and the server's error with SQLSTATE, line and column). 429/503: no throwaway clone free.
        response: {
          200: ExplainResponse,
          400: Problem,
          401: Problem,
          404: Problem,
          409: Problem,
          413: Problem,
          422: UnplannableProblem,
          429: Problem,
          503: Problem,
        },
      },
    },
    async (request, reply) => forward(sqlRunner, request, reply, '/explain', request.body),
  );
}
