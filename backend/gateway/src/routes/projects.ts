import {
  AbortedMerge,
  CreateProjectRequest,
  DiffQuery,
  FileChange,
  HistoryQuery,
  PendingMerge,
  Problem,
  Project,
  ProjectDiff,
  ProjectHistory,
  ProjectIdParams,
  ProjectRemote,
  ProjectRemoteOrNull,
  ProjectTemplates,
  ProjectTree,
  PullResult,
  PushResult,
  RenameFileRequest,
  ResolveMergeRequest,
  RestoreRequest,
  RestoreResult,
  SetRemoteRequest,
} from '@taidon/contracts';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { upstreamUnavailable } from '../errors.js';
import { forward, type Upstream } from '../upstream.js';

/** Largest file body the gateway passes on; vcs-sync refuses past its own VCS_SYNC_FILE_MAX_BYTES with its code. */
const FILE_BODY_LIMIT_BYTES = 4 * 1024 * 1024;

const FileParams = {
  type: 'object',
  required: ['id', '*'],
  additionalProperties: false,
  properties: {
    id: { type: 'string', format: 'uuid' },
    '*': { type: 'string', maxLength: 2048, description: 'The file’s path in the project, `/`-separated.' },
  },
} as const;
type FileRoute = { Params: { id: string; '*': string } };

const VersionHeaders = {
  type: 'object',
  properties: {
    'if-match': {
      type: 'string',
      maxLength: 200,
      description: 'The version (`ETag`) the change is based on; `*` for any existing file.',
    },
    'if-none-match': { type: 'string', maxLength: 200, description: '`*`: create only, the file must not exist.' },
  },
} as const;

/**
 * A file path passed on as one encoded segment (its slashes too): the URL
 * parser resolves `..` and `%2E%2E` segments, so a path made of them would
 * reach another route instead of vcs-sync's refusal. A path that is only `.`
 * or `..` gets a trailing slash, which keeps it what it is to vcs-sync's
 * checks (an invalid or traversing path) without being a dot segment.
 */
function encodedPath(path: string): string {
  return encodeURIComponent(path === '.' || path === '..' ? `${path}/` : path);
}

/** The conditional headers of a file change, passed on to vcs-sync. */
function versionHeaders(request: FastifyRequest): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const name of ['if-match', 'if-none-match'] as const) {
    const value = request.headers[name];
    if (typeof value === 'string') headers[name] = value;
  }
  return headers;
}

/**
 * `/api/projects*`, answered by vcs-sync for the verified caller (its
 * account and role go in headers): vcs-sync checks the owner on every route,
 * so another account's project answers 404 `VCS_SYNC_PROJECT_NOT_FOUND` and
 * is left untouched. File bodies are the file's text (`text/plain`); a
 * file's version travels in `ETag` and `If-Match`.
 */
export function registerProjectRoutes(app: FastifyInstance, vcsSyncUrl: Upstream | undefined): void {
  const vcsSync = (): Upstream => {
    if (!vcsSyncUrl) throw upstreamUnavailable('vcs-sync is not configured behind this gateway.');
    return vcsSyncUrl;
  };
  const security = [{ bearerAuth: [] }];
  const tags = ['projects'];
  const problems = { 404: Problem, 409: Problem, 412: Problem, 413: Problem, 422: Problem, 428: Problem };
  const base = (id: string) => `/projects/${id}`;

  app.get(
    '/api/project-templates',
    {
      schema: {
        summary: 'Templates a new project can start from.',
        tags,
        security,
        response: { 200: ProjectTemplates },
      },
    },
    async (request, reply) => forward(vcsSync(), request, reply, '/templates'),
  );
  app.post<{ Body: CreateProjectRequest }>(
    '/api/projects',
    {
      schema: {
        summary:
          'Create a project (a Git working tree) from a template (`empty` or an example project), or import one from a Git remote (`import`: its history kept, the remote set).',
        tags,
        security,
        body: CreateProjectRequest,
        response: { 201: Project, 409: Problem, 413: Problem, 422: Problem },
      },
    },
    async (request, reply) => forward(vcsSync(), request, reply, '/projects', request.body),
  );
  app.get(
    '/api/projects',
    {
      schema: {
        summary: 'Your projects, oldest first.',
        tags,
        security,
        response: { 200: { type: 'array', items: Project } },
      },
    },
    async (request, reply) => forward(vcsSync(), request, reply, '/projects'),
  );
  app.delete<{ Params: ProjectIdParams }>(
    '/api/projects/:id',
    {
      schema: {
        summary: 'Delete one of your projects with its history.',
        tags,
        security,
        params: ProjectIdParams,
        response: { 200: Project, 404: Problem },
      },
    },
    async (request, reply) => forward(vcsSync(), request, reply, base(request.params.id)),
  );
  app.get<{ Params: ProjectIdParams }>(
    '/api/projects/:id/files',
    {
      schema: {
        summary: 'Every file of the project at its latest commit, with sizes and versions.',
        tags,
        security,
        params: ProjectIdParams,
        response: { 200: ProjectTree, 404: Problem },
      },
    },
    async (request, reply) => forward(vcsSync(), request, reply, `${base(request.params.id)}/files`),
  );
  app.get<FileRoute>(
    '/api/projects/:id/files/*',
    {
      schema: {
        summary: 'A file’s text; its version in `ETag`.',
        tags,
        security,
        params: FileParams,
        response: {
          200: { description: 'The file’s text.', content: { 'text/plain': { schema: { type: 'string' } } } },
          ...problems,
        },
      },
    },
    async (request, reply) =>
      forward(vcsSync(), request, reply, `${base(request.params.id)}/files/${encodedPath(request.params['*'])}`),
  );
  app.put<FileRoute & { Body: string }>(
    '/api/projects/:id/files/*',
    {
      bodyLimit: FILE_BODY_LIMIT_BYTES,
      schema: {
        summary:
          'Save a file as a commit. Send `If-Match` with the version you read (or `If-None-Match: *` to create); a stale version answers 412 and nothing is written.',
        tags,
        security,
        params: FileParams,
        headers: VersionHeaders,
        consumes: ['text/plain'],
        body: { type: 'string', description: 'The file’s text.' },
        response: { 200: FileChange, 201: FileChange, ...problems },
      },
    },
    async (request, reply) =>
      forward(
        vcsSync(),
        request,
        reply,
        `${base(request.params.id)}/files/${encodedPath(request.params['*'])}`,
        undefined,
        {
          headers: versionHeaders(request),
          text: typeof request.body === 'string' ? request.body : '',
        },
      ),
  );
  app.delete<FileRoute>(
    '/api/projects/:id/files/*',
    {
      schema: {
        summary: 'Delete a file as a commit (with `If-Match`, only if it is still at that version).',
        tags,
        security,
        params: FileParams,
        headers: VersionHeaders,
        response: { 200: FileChange, ...problems },
      },
    },
    async (request, reply) =>
      forward(
        vcsSync(),
        request,
        reply,
        `${base(request.params.id)}/files/${encodedPath(request.params['*'])}`,
        undefined,
        { headers: versionHeaders(request) },
      ),
  );
  app.post<{ Params: ProjectIdParams; Body: RenameFileRequest }>(
    '/api/projects/:id/rename',
    {
      schema: {
        summary: 'Rename a file as a commit (with `If-Match`, only if the source is still at that version).',
        tags,
        security,
        params: ProjectIdParams,
        headers: VersionHeaders,
        body: RenameFileRequest,
        response: { 200: FileChange, ...problems },
      },
    },
    async (request, reply) =>
      forward(vcsSync(), request, reply, `${base(request.params.id)}/rename`, request.body, {
        headers: versionHeaders(request),
      }),
  );
  app.get<{ Params: ProjectIdParams; Querystring: HistoryQuery }>(
    '/api/projects/:id/history',
    {
      schema: {
        summary: 'The project’s commits, newest first; with `path`, those that changed that file.',
        tags,
        security,
        params: ProjectIdParams,
        querystring: HistoryQuery,
        response: { 200: ProjectHistory, 404: Problem, 422: Problem },
      },
    },
    async (request, reply) => {
      const query = new URLSearchParams(request.query as Record<string, string>).toString();
      return forward(vcsSync(), request, reply, `${base(request.params.id)}/history${query ? `?${query}` : ''}`);
    },
  );
  app.get<{ Params: ProjectIdParams; Querystring: DiffQuery }>(
    '/api/projects/:id/diff',
    {
      schema: {
        summary: 'What changed between two commits: the files and the unified diff.',
        tags,
        security,
        params: ProjectIdParams,
        querystring: DiffQuery,
        response: { 200: ProjectDiff, 404: Problem, 422: Problem },
      },
    },
    async (request, reply) => {
      const query = new URLSearchParams({ from: request.query.from, to: request.query.to }).toString();
      return forward(vcsSync(), request, reply, `${base(request.params.id)}/diff?${query}`);
    },
  );
  app.post<{ Params: ProjectIdParams; Body: RestoreRequest }>(
    '/api/projects/:id/restore',
    {
      schema: {
        summary: 'Restore a file (or the whole tree) as it was at a commit, as a new commit.',
        tags,
        security,
        params: ProjectIdParams,
        body: RestoreRequest,
        response: { 200: RestoreResult, ...problems },
      },
    },
    async (request, reply) => forward(vcsSync(), request, reply, `${base(request.params.id)}/restore`, request.body),
  );
  registerRemoteRoutes(app, vcsSync, { security, tags, base });
}

/**
 * A project's remote and sync, forwarded to vcs-sync like the rest: set the
 * remote (the token goes to vcs-sync, which seals it; no answer carries it),
 * pull, push, and the merge a conflicting pull leaves waiting.
 */
function registerRemoteRoutes(
  app: FastifyInstance,
  vcsSync: () => Upstream,
  shared: { security: { bearerAuth: never[] }[]; tags: string[]; base: (id: string) => string },
): void {
  const { security, tags, base } = shared;
  // 502 and 503 (a remote that failed, tokens not configured) are on every gateway route already.
  const remoteProblems = { 404: Problem, 409: Problem, 413: Problem, 422: Problem };
  app.get<{ Params: ProjectIdParams }>(
    '/api/projects/:id/remote',
    {
      schema: {
        summary: 'The project’s Git remote (never its token, only whether one is kept), or null when it has none.',
        tags,
        security,
        params: ProjectIdParams,
        response: { 200: ProjectRemoteOrNull, 404: Problem },
      },
    },
    async (request, reply) => forward(vcsSync(), request, reply, `${base(request.params.id)}/remote`),
  );
  app.put<{ Params: ProjectIdParams; Body: SetRemoteRequest }>(
    '/api/projects/:id/remote',
    {
      schema: {
        summary:
          'Set the project’s Git remote: an https URL (no credentials in it), an optional token (kept encrypted, never answered) and branch. Replaces the remote; a token left out is dropped.',
        tags,
        security,
        params: ProjectIdParams,
        body: SetRemoteRequest,
        response: { 200: ProjectRemote, 404: Problem, 422: Problem },
      },
    },
    async (request, reply) => forward(vcsSync(), request, reply, `${base(request.params.id)}/remote`, request.body),
  );
  app.post<{ Params: ProjectIdParams }>(
    '/api/projects/:id/pull',
    {
      schema: {
        summary:
          'Pull the remote’s branch: up to date, a fast-forward or a merge commit. When both sides changed the same files, 409 `VCS_SYNC_PULL_CONFLICT` gives each one’s base, ours and theirs, and nothing changes until `POST …/merge` or `DELETE …/merge`.',
        tags,
        security,
        params: ProjectIdParams,
        response: { 200: PullResult, ...remoteProblems },
      },
    },
    async (request, reply) => forward(vcsSync(), request, reply, `${base(request.params.id)}/pull`, {}),
  );
  app.post<{ Params: ProjectIdParams }>(
    '/api/projects/:id/push',
    {
      schema: {
        summary:
          'Push the latest commit to the remote’s branch, never forced; a remote with commits the project lacks answers 409 `VCS_SYNC_PUSH_REJECTED` and nothing changes.',
        tags,
        security,
        params: ProjectIdParams,
        response: { 200: PushResult, ...remoteProblems },
      },
    },
    async (request, reply) => forward(vcsSync(), request, reply, `${base(request.params.id)}/push`, {}),
  );
  app.get<{ Params: ProjectIdParams }>(
    '/api/projects/:id/merge',
    {
      schema: {
        summary: 'The pull waiting for its conflicts to be resolved: each conflicting file’s base, ours and theirs.',
        tags,
        security,
        params: ProjectIdParams,
        response: { 200: PendingMerge, ...remoteProblems },
      },
    },
    async (request, reply) => forward(vcsSync(), request, reply, `${base(request.params.id)}/merge`),
  );
  app.post<{ Params: ProjectIdParams; Body: ResolveMergeRequest }>(
    '/api/projects/:id/merge',
    {
      bodyLimit: 16 * 1024 * 1024,
      schema: {
        summary:
          'Resolve the waiting pull: one resolution per conflicting file (take `ours` or `theirs`, or the merged `text`), made into one merge commit.',
        tags,
        security,
        params: ProjectIdParams,
        body: ResolveMergeRequest,
        response: { 200: PullResult, ...remoteProblems },
      },
    },
    async (request, reply) => forward(vcsSync(), request, reply, `${base(request.params.id)}/merge`, request.body),
  );
  app.delete<{ Params: ProjectIdParams }>(
    '/api/projects/:id/merge',
    {
      schema: {
        summary: 'Abort the waiting pull; the project stays as it is.',
        tags,
        security,
        params: ProjectIdParams,
        response: { 200: AbortedMerge, ...remoteProblems },
      },
    },
    async (request, reply) => forward(vcsSync(), request, reply, `${base(request.params.id)}/merge`),
  );
}
