import { CreateProjectRequest, Problem, Project, ProjectIdParams, ProjectTemplates } from '@taidon/contracts';
import type { AuditSink } from '@taidon/kit';
import type { FastifyInstance } from 'fastify';
import { createProject, deleteProject, getOwnProject, listOwnProjects } from '../domain/projects.js';
import { listTemplates } from '../domain/templates.js';
import type { Workspace } from '../domain/workspace.js';
import { type GitMetrics, measureRemote } from '../metrics.js';
import { callerOf } from './caller.js';

/** `/projects`: create, list, read and delete the caller's projects; `/templates`: what a project can start from. */
export function registerProjectRoutes(
  app: FastifyInstance,
  ws: Workspace,
  metrics: GitMetrics,
  audit: AuditSink | undefined,
): void {
  const problems = { 400: Problem, 404: Problem, 409: Problem, 413: Problem, 422: Problem, 429: Problem };
  app.get('/templates', { schema: { response: { 200: ProjectTemplates } } }, async () => ({
    templates: await listTemplates(ws.templatesDir),
  }));
  app.post<{ Body: CreateProjectRequest }>(
    '/projects',
    { schema: { body: CreateProjectRequest, response: { 201: Project, ...problems, 502: Problem, 503: Problem } } },
    async (request, reply) => {
      const caller = callerOf(request);
      const source = request.body.import;
      const project = source
        ? await measureRemote(metrics, 'import', () => createProject(ws, caller, request.body))
        : await createProject(ws, caller, request.body);
      audit?.record({
        action: 'project-created',
        accountId: caller.accountId,
        target: project.id,
        requestId: request.id,
        detail: { template: project.template },
      });
      if (source) {
        audit?.record({
          action: 'project-imported',
          accountId: caller.accountId,
          target: project.id,
          requestId: request.id,
          // The URL as checked (never credentials: those are refused); the token never (audit-log refuses a key naming one).
          detail: { url: source.url, authenticated: source.token !== undefined },
        });
      }
      reply.code(201);
      return project;
    },
  );
  app.get('/projects', { schema: { response: { 200: { type: 'array', items: Project }, 400: Problem } } }, (request) =>
    listOwnProjects(ws, callerOf(request)),
  );
  app.get<{ Params: ProjectIdParams }>(
    '/projects/:id',
    { schema: { params: ProjectIdParams, response: { 200: Project, ...problems } } },
    (request) => getOwnProject(ws, callerOf(request), request.params.id),
  );
  app.delete<{ Params: ProjectIdParams }>(
    '/projects/:id',
    { schema: { params: ProjectIdParams, response: { 200: Project, ...problems } } },
    async (request) => {
      const caller = callerOf(request);
      const project = await deleteProject(ws, caller, request.params.id);
      audit?.record({
        action: 'project-deleted',
        accountId: caller.accountId,
        target: project.id,
        requestId: request.id,
      });
      return project;
    },
  );
}
