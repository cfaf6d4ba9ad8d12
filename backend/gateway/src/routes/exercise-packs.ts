import { ExercisePackResult, ImportExercisePackRequest, MAX_PACK_BODY_BYTES, Problem } from '@taidon/contracts';
import type { ServiceEndpoint } from '@taidon/kit';
import type { FastifyInstance } from 'fastify';
import { upstreamUnavailable } from '../errors.js';
import { requireRole } from '../roles.js';
import { forward, type Upstream } from '../upstream.js';

/**
 * Deadline of a pack import: with `publish` its exercises are measured one after another within
 * EXERCISES_PACK_PUBLISH_BUDGET_MS (default 240 s), longer than the gateway's usual UPSTREAM_TIMEOUT_MS.
 */
const PACK_TIMEOUT_MS = 300_000;

/**
 * `POST /api/exercise-packs`, answered by the exercises service: many exercises on one start state,
 * built once (issue 18). For instructors and admins, checked here against the token and the account's
 * current role (403 GATEWAY_FORBIDDEN) and again by the service.
 */
export function registerExercisePackRoutes(
  app: FastifyInstance,
  exercisesUrl: Upstream | undefined,
  userProfile: ServiceEndpoint | undefined,
): void {
  app.post<{ Body: ImportExercisePackRequest }>(
    '/api/exercise-packs',
    {
      preHandler: requireRole(userProfile, 'instructor', 'admin'),
      bodyLimit: MAX_PACK_BODY_BYTES,
      schema: {
        summary:
          "Import a pack of exercises sharing one start state (instructors and admins), given as JSON or read from one of the caller's projects at a commit (`exercises/`, the start state its init/ and seed/): the state is built once for all of them, every exercise stored as a draft, and with `publish` each measured and published in order; the answer gives each exercise its kill score or why it stayed a draft.",
        tags: ['exercises'],
        security: [{ bearerAuth: [] }],
        body: ImportExercisePackRequest,
        response: {
          201: ExercisePackResult,
          401: Problem,
          403: Problem,
          404: Problem,
          409: Problem,
          413: Problem,
          422: Problem,
          503: Problem,
        },
      },
    },
    async (request, reply) => {
      if (!exercisesUrl) throw upstreamUnavailable('exercises is not configured behind this gateway.');
      const timeoutMs = Math.max(exercisesUrl.timeoutMs, PACK_TIMEOUT_MS);
      return forward({ ...exercisesUrl, timeoutMs }, request, reply, '/exercise-packs', request.body);
    },
  );
}
