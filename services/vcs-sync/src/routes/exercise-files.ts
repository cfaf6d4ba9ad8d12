import { Problem, ProjectIdParams, VcsSyncApi } from '@taidon/contracts';
import type { FastifyInstance } from 'fastify';
import { exerciseFiles } from '../domain/exercise-files.js';
import type { Workspace } from '../domain/workspace.js';
import { callerOf } from './caller.js';

/**
 * `GET /projects/:id/exercise-files` (the exercises service's, never forwarded by the gateway): the files of
 * the exercises authored in the project at a commit, read in one call within the caller's bounds.
 */
export function registerExerciseFileRoutes(app: FastifyInstance, ws: Workspace): void {
  app.get<{ Params: ProjectIdParams; Querystring: VcsSyncApi.ScriptsQuery }>(
    '/projects/:id/exercise-files',
    {
      schema: {
        params: ProjectIdParams,
        querystring: VcsSyncApi.ScriptsQuery,
        response: {
          200: VcsSyncApi.ProjectExerciseFiles,
          400: Problem,
          404: Problem,
          413: Problem,
          422: Problem,
          429: Problem,
        },
      },
    },
    (request) =>
      exerciseFiles(ws, callerOf(request), request.params.id, {
        ref: request.query.ref,
        maxFiles: Number(request.query.maxFiles),
        maxBytes: Number(request.query.maxBytes),
      }),
  );
}
