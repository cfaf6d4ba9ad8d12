import { ExercisePackResult, ImportExercisePackRequest, MAX_PACK_BODY_BYTES } from '@taidon/contracts';
import { ACCOUNT_HEADER, ROLE_HEADER } from '@taidon/kit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ProjectExerciseFiles } from '../clients/vcs-sync.js';
import { importPack, type PackDeps } from '../domain/packs/import.js';
import { packFromProject } from '../domain/packs/project.js';
import { ExercisesError } from '../errors.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Roles that author exercises, and so import packs. */
const AUTHORS = new Set(['instructor', 'admin']);
/** Packs one process imports with `publish` at once: each measures its exercises one after another. */
const MAX_CONCURRENT_PACK_PUBLISHES = 1;

/** The verified author a pack is imported for (the gateway checked the role; checked again here). */
function authorOf(request: FastifyRequest): { accountId: string; role: string } {
  const account = request.headers[ACCOUNT_HEADER];
  if (typeof account !== 'string' || !UUID.test(account)) {
    throw new ExercisesError(
      'EXERCISES_ACCOUNT_REQUIRED',
      `Exercise routes act for an account: send ${ACCOUNT_HEADER}.`,
    );
  }
  const header = request.headers[ROLE_HEADER];
  const role = typeof header === 'string' ? header : 'anonymous';
  if (!AUTHORS.has(role)) {
    throw new ExercisesError('EXERCISES_FORBIDDEN', 'Importing exercise packs is for instructor and admin accounts.', {
      details: { role },
    });
  }
  return { accountId: account.toLowerCase(), role };
}

/**
 * `POST /exercise-packs` (the gateway forwards `/api/exercise-packs`): many
 * exercises on one start state, built once, stored as the caller's drafts,
 * and with `publish` each measured and published within the pack's budget;
 * given as JSON, or read from one of the caller's projects at a commit.
 */
export function registerPackRoutes(
  app: FastifyInstance,
  deps: Omit<PackDeps, 'onHoldError' | 'onPublishError'> & { projects?: ProjectExerciseFiles },
): void {
  let publishing = 0;
  app.post<{ Body: ImportExercisePackRequest }>(
    '/exercise-packs',
    {
      schema: { body: ImportExercisePackRequest, response: { 201: ExercisePackResult } },
      bodyLimit: MAX_PACK_BODY_BYTES,
    },
    async (request, reply) => {
      const as = { ...authorOf(request), requestId: request.id };
      const publish = request.body.publish === true;
      if (publish && publishing >= MAX_CONCURRENT_PACK_PUBLISHES) {
        throw new ExercisesError('EXERCISES_GRADER_BUSY', 'Another pack is being published; try again later.', {
          details: { retryAfterSeconds: 30 },
        });
      }
      if (publish) publishing++;
      try {
        const onHoldError = (error: unknown) =>
          request.log.warn({ err: error }, "a pack exercise's publication layers could not be held");
        const onPublishError = (error: unknown, exerciseId: string) =>
          request.log.error({ err: error, exerciseId }, "a pack exercise's publish failed");
        const body = request.body;
        if (!('project' in body)) {
          reply.code(201);
          return await importPack({ ...deps, onHoldError, onPublishError }, body, as);
        }
        if (!deps.projects) {
          throw new ExercisesError('EXERCISES_PROJECTS_UNAVAILABLE', 'This service reads no projects (VCS_SYNC_URL).');
        }
        const files = await deps.projects.read(body.project, body.ref, as);
        const pack = { ...packFromProject(files), ...(body.publish !== undefined ? { publish: body.publish } : {}) };
        const result = await importPack({ ...deps, onHoldError, onPublishError }, pack, as);
        reply.code(201);
        return { ...result, source: { project: body.project, commit: files.commit } };
      } finally {
        if (publish) publishing--;
      }
    },
  );
}
