import {
  AbortedMerge,
  PendingMerge,
  Problem,
  ProjectIdParams,
  ProjectRemote,
  ProjectRemoteOrNull,
  PullResult,
  PushResult,
  ResolveMergeRequest,
  SetRemoteRequest,
} from '@taidon/contracts';
import type { AuditSink } from '@taidon/kit';
import type { FastifyInstance } from 'fastify';
import { abortMerge, pendingMerge, resolveMerge } from '../domain/merge.js';
import { getRemote, pull, push, setRemote } from '../domain/sync.js';
import type { Workspace } from '../domain/workspace.js';
import { type GitMetrics, measureRemote } from '../metrics.js';
import { callerOf } from './caller.js';

type ProjectRoute = { Params: ProjectIdParams };

/**
 * A project's remote and its sync: set the remote (the token sealed, never
 * answered or audited), pull, push, and the merge a conflicting pull leaves
 * waiting (read it, resolve it, abort it).
 */
export function registerRemoteRoutes(
  app: FastifyInstance,
  ws: Workspace,
  metrics: GitMetrics,
  audit: AuditSink | undefined,
): void {
  const problems = {
    400: Problem,
    404: Problem,
    409: Problem,
    413: Problem,
    422: Problem,
    429: Problem,
    502: Problem,
    503: Problem,
  };
  app.get<ProjectRoute>(
    '/projects/:id/remote',
    {
      schema: { params: ProjectIdParams, response: { 200: ProjectRemoteOrNull, ...problems } },
    },
    (request) => getRemote(ws, callerOf(request), request.params.id),
  );
  app.put<ProjectRoute & { Body: SetRemoteRequest }>(
    '/projects/:id/remote',
    { schema: { params: ProjectIdParams, body: SetRemoteRequest, response: { 200: ProjectRemote, ...problems } } },
    async (request) => {
      const caller = callerOf(request);
      const remote = await setRemote(ws, caller, request.params.id, request.body);
      audit?.record({
        action: 'project-remote-set',
        accountId: caller.accountId,
        target: request.params.id,
        requestId: request.id,
        detail: { url: remote.url, branch: remote.branch, authenticated: remote.hasToken },
      });
      return remote;
    },
  );
  app.post<ProjectRoute>(
    '/projects/:id/pull',
    { schema: { params: ProjectIdParams, response: { 200: PullResult, ...problems } } },
    async (request) => {
      const caller = callerOf(request);
      const record = (detail: Record<string, unknown>) =>
        audit?.record({
          action: 'project-pulled',
          accountId: caller.accountId,
          target: request.params.id,
          requestId: request.id,
          detail,
        });
      try {
        const result = await measureRemote(metrics, 'pull', () => pull(ws, caller, request.params.id));
        record({ outcome: result.status, commit: result.commit, theirs: result.theirs });
        return result;
      } catch (error) {
        const code = (error as { code?: unknown }).code;
        if (code === 'VCS_SYNC_PULL_CONFLICT') record({ outcome: 'conflict' });
        throw error;
      }
    },
  );
  app.post<ProjectRoute>(
    '/projects/:id/push',
    { schema: { params: ProjectIdParams, response: { 200: PushResult, ...problems } } },
    async (request) => {
      const caller = callerOf(request);
      const result = await measureRemote(metrics, 'push', () => push(ws, caller, request.params.id));
      audit?.record({
        action: 'project-pushed',
        accountId: caller.accountId,
        target: request.params.id,
        requestId: request.id,
        detail: { outcome: result.status, commit: result.commit, branch: result.branch },
      });
      return result;
    },
  );
  app.get<ProjectRoute>(
    '/projects/:id/merge',
    { schema: { params: ProjectIdParams, response: { 200: PendingMerge, ...problems } } },
    (request) => pendingMerge(ws, callerOf(request), request.params.id),
  );
  app.post<ProjectRoute & { Body: ResolveMergeRequest }>(
    '/projects/:id/merge',
    {
      // The merged texts of up to 2,000 files: the file cap bounds each, this bounds them together.
      bodyLimit: 16 * 1024 * 1024,
      schema: { params: ProjectIdParams, body: ResolveMergeRequest, response: { 200: PullResult, ...problems } },
    },
    async (request) => {
      const caller = callerOf(request);
      const result = await measureRemote(metrics, 'merge', () =>
        resolveMerge(ws, caller, request.params.id, request.body.resolutions),
      );
      audit?.record({
        action: 'project-pulled',
        accountId: caller.accountId,
        target: request.params.id,
        requestId: request.id,
        detail: { outcome: 'resolved', commit: result.commit, theirs: result.theirs },
      });
      return result;
    },
  );
  app.delete<ProjectRoute>(
    '/projects/:id/merge',
    { schema: { params: ProjectIdParams, response: { 200: AbortedMerge, ...problems } } },
    (request) => abortMerge(ws, callerOf(request), request.params.id),
  );
}
