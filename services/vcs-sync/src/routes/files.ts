import { FileChange, Problem, ProjectIdParams, ProjectTree, RenameFileRequest } from '@taidon/contracts';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { deleteFile, listFiles, type Precondition, readFile, renameFile, writeFile } from '../domain/files.js';
import type { Workspace } from '../domain/workspace.js';
import { callerOf } from './caller.js';

const FileParams = {
  type: 'object',
  required: ['id', '*'],
  additionalProperties: false,
  properties: { id: { type: 'string', format: 'uuid' }, '*': { type: 'string', maxLength: 2048 } },
} as const;

type FileRoute = { Params: { id: string; '*': string } };

/** A version as an ETag: the blob id, quoted (a strong validator: the same bytes always have it). */
export const etagOf = (version: string): string => `"${version}"`;

/** The version an `If-Match` names: one entity tag, quoted or not (`W/` ignored: versions are content ids), or `*`. */
function versionIn(header: string | string[] | undefined): string | undefined {
  if (typeof header !== 'string') return undefined;
  const given = header.trim();
  if (given === '*') return '*';
  return given
    .replace(/^W\//, '')
    .replace(/^"(.*)"$/, '$1')
    .slice(0, 128);
}

function preconditionOf(request: FastifyRequest): Precondition {
  return {
    ifMatch: versionIn(request.headers['if-match']),
    ifNoneMatch: request.headers['if-none-match']?.trim() === '*',
  };
}

function answerChange(reply: FastifyReply, change: FileChange, createdStatus: number): FileChange {
  if (change.version) reply.header('etag', etagOf(change.version));
  reply.code(change.created ? createdStatus : 200);
  return change;
}

/**
 * A project's files: the tree, and each file by its path after `/files/`
 * (the body of a write is the file's text, `text/plain`; the version travels
 * in `ETag` and `If-Match`), and renames.
 */
export function registerFileRoutes(app: FastifyInstance, ws: Workspace): void {
  const problems = {
    400: Problem,
    404: Problem,
    409: Problem,
    412: Problem,
    413: Problem,
    422: Problem,
    428: Problem,
    429: Problem,
  };
  app.get<{ Params: ProjectIdParams }>(
    '/projects/:id/files',
    { schema: { params: ProjectIdParams, response: { 200: ProjectTree, ...problems } } },
    (request) => listFiles(ws, callerOf(request), request.params.id),
  );
  app.get<FileRoute>('/projects/:id/files/*', { schema: { params: FileParams } }, async (request, reply) => {
    const file = await readFile(ws, callerOf(request), request.params.id, request.params['*']);
    reply.header('etag', etagOf(file.version)).type('text/plain; charset=utf-8');
    return file.text;
  });
  app.put<FileRoute & { Body: string | undefined }>(
    '/projects/:id/files/*',
    {
      // Twice the cap: a file somewhat too large is refused with VCS_SYNC_FILE_TOO_LARGE and its size; beyond, fastify's 413.
      bodyLimit: ws.limits.fileMaxBytes * 2,
      schema: { params: FileParams, response: { 200: FileChange, 201: FileChange, ...problems } },
    },
    async (request, reply) => {
      const text = typeof request.body === 'string' ? request.body : '';
      const change = await writeFile(
        ws,
        callerOf(request),
        request.params.id,
        request.params['*'],
        text,
        preconditionOf(request),
      );
      return answerChange(reply, change, 201);
    },
  );
  app.delete<FileRoute>(
    '/projects/:id/files/*',
    { schema: { params: FileParams, response: { 200: FileChange, ...problems } } },
    async (request) =>
      deleteFile(ws, callerOf(request), request.params.id, request.params['*'], preconditionOf(request)),
  );
  app.post<{ Params: ProjectIdParams; Body: RenameFileRequest }>(
    '/projects/:id/rename',
    { schema: { params: ProjectIdParams, body: RenameFileRequest, response: { 200: FileChange, ...problems } } },
    async (request, reply) => {
      const change = await renameFile(ws, callerOf(request), request.params.id, request.body, preconditionOf(request));
      return answerChange(reply, change, 200);
    },
  );
}
