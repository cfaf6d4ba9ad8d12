import {
  DiffQuery,
  HistoryQuery,
  Problem,
  ProjectDiff,
  ProjectHistory,
  ProjectIdParams,
  RestoreRequest,
  RestoreResult,
} from '@taidon/contracts';
import type { AuditSink } from '@taidon/kit';
import type { FastifyInstance } from 'fastify';
import { diff, history, restore } from '../domain/history.js';
import type { Workspace } from '../domain/workspace.js';
import { callerOf } from './caller.js';

/** A project's history, the diff between two of its commits, and restores as new commits. */
export function registerHistoryRoutes(app: FastifyInstance, ws: Workspace, audit: AuditSink | undefined): void {
  const problems = { 400: Problem, 404: Problem, 409: Problem, 413: Problem, 422: Problem, 429: Problem };
  app.get<{ Params: ProjectIdParams; Querystring: HistoryQuery }>(
    '/projects/:id/history',
    { schema: { params: ProjectIdParams, querystring: HistoryQuery, response: { 200: ProjectHistory, ...problems } } },
    (request) =>
      history(ws, callerOf(request), request.params.id, {
        path: request.query.path,
        limit: request.query.limit === undefined ? undefined : Number(request.query.limit),
      }),
  );
  app.get<{ Params: ProjectIdParams; Querystring: DiffQuery }>(
    '/projects/:id/diff',
    { schema: { params: ProjectIdParams, querystring: DiffQuery, response: { 200: ProjectDiff, ...problems } } },
    (request) => diff(ws, callerOf(request), request.params.id, request.query),
  );
  app.post<{ Params: ProjectIdParams; Body: RestoreRequest }>(
    '/projects/:id/restore',
    { schema: { params: ProjectIdParams, body: RestoreRequest, response: { 200: RestoreResult, ...problems } } },
    async (request) => {
      const caller = callerOf(request);
      const result = await restore(ws, caller, request.params.id, request.body);
      if (result.changed) {
        audit?.record({
          action: 'project-restored',
          accountId: caller.accountId,
          target: request.params.id,
          requestId: request.id,
          detail: {
            commit: result.restoredFrom,
            restoredAs: result.commit,
            ...(result.path ? { path: result.path } : {}),
          },
        });
      }
      return result;
    },
  );
}
