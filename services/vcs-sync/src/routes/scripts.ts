import { Problem, ProjectIdParams, VcsSyncApi } from '@taidon/contracts';
import type { FastifyInstance } from 'fastify';
import { chainScripts } from '../domain/scripts.js';
import type { Workspace } from '../domain/workspace.js';
import { callerOf } from './caller.js';

/**
 * `GET /projects/:id/scripts` (sql-runner's, never forwarded by the
 * gateway): the project's `.sql` files at a commit, in the order a project
 * tail runs them, read in one call within the bounds the caller plans in.
 */
export function registerScriptRoutes(app: FastifyInstance, ws: Workspace): void {
  app.get<{ Params: ProjectIdParams; Querystring: VcsSyncApi.ScriptsQuery }>(
    '/projects/:id/scripts',
    {
      schema: {
        params: ProjectIdParams,
        querystring: VcsSyncApi.ScriptsQuery,
        response: {
          200: VcsSyncApi.ProjectScripts,
          400: Problem,
          404: Problem,
          413: Problem,
          422: Problem,
          429: Problem,
        },
      },
    },
    (request) =>
      chainScripts(ws, callerOf(request), request.params.id, {
        ref: request.query.ref,
        maxFiles: Number(request.query.maxFiles),
        maxBytes: Number(request.query.maxBytes),
      }),
  );
}
