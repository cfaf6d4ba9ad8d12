import { Problem, ProjectIdParams, ProjectTestsRequest, RUN_STREAM_CONTENT_TYPE } from '@taidon/contracts';
import type { FastifyInstance } from 'fastify';
import type { Upstream } from '../upstream.js';
import { streamFromSqlRunner } from './runs.js';

/**
 * `POST /api/projects/{id}/tests`, answered by sql-runner as a stream: the
 * project's test/ and bench/ files, each on its own throwaway clone of the
 * state its init/ and seed/ build (ADR 0031). sql-runner reads the project
 * from vcs-sync for the caller, so another account's project is a 404.
 */
export function registerProjectTestRoutes(app: FastifyInstance, sqlRunner: Upstream): void {
  app.post<{ Params: ProjectIdParams; Body: ProjectTestsRequest | undefined }>(
    '/api/projects/:id/tests',
    {
      schema: {
        summary: `Run the project's test/*.sql and bench/*.sql files, each on its own throwaway clone of its init/ + seed/ state; the answer is a stream of ${RUN_STREAM_CONTENT_TYPE} events (started, progress, prepared, file per file, done).`,
        tags: ['projects'],
        security: [{ bearerAuth: [] }],
        params: ProjectIdParams,
        body: ProjectTestsRequest,
        // 404: no project of yours; 413: its scripts past a chain's bounds; 422: its chain's SQL, a ref it lacks,
        // more than 200 files; 429/503: no throwaway clone free (Retry-After), or projects not served here.
        response: { 400: Problem, 401: Problem, 404: Problem, 413: Problem, 422: Problem, 429: Problem, 503: Problem },
      },
    },
    async (request, reply) =>
      streamFromSqlRunner(sqlRunner, request, reply, `/projects/${encodeURIComponent(request.params.id)}/tests`),
  );
}
