import {
  AttemptRequest,
  AttemptResult,
  AuthoredExercise,
  CreateExerciseRequest,
  ExerciseIdParams,
  ExerciseList,
  ExerciseStats,
  ExerciseView,
  MAX_EXERCISE_BODY_BYTES,
  Problem,
  ProgressList,
  PublishResult,
  UpdateExerciseRequest,
} from '@taidon/contracts';
import type { ServiceEndpoint } from '@taidon/kit';
import type { FastifyInstance } from 'fastify';
import { upstreamUnavailable } from '../errors.js';
import { requireRole } from '../roles.js';
import { forward, type Upstream } from '../upstream.js';

/**
 * Deadline of a publish: its measure has EXERCISES_PUBLISH_BUDGET_MS (default 120 s) besides building the
 * datasets' states, longer than the gateway's usual UPSTREAM_TIMEOUT_MS.
 */
const PUBLISH_TIMEOUT_MS = 300_000;

/**
 * `/api/exercises*`, answered by the exercises service for the verified
 * caller (ADR 0036). Authoring and publishing are for instructors and
 * admins: the token's role and the account's current role in user-profile
 * are checked here (403 GATEWAY_FORBIDDEN), and the service checks the role
 * it is given again. Reading is for every signed-in caller; a learner gets
 * a published exercise without its solution or hidden datasets.
 */
export function registerExerciseRoutes(
  app: FastifyInstance,
  exercisesUrl: Upstream | undefined,
  userProfile: ServiceEndpoint | undefined,
): void {
  const exercises = (): Upstream => {
    if (!exercisesUrl) throw upstreamUnavailable('exercises is not configured behind this gateway.');
    return exercisesUrl;
  };
  const security = [{ bearerAuth: [] }];
  const tags = ['exercises'];
  const authors = requireRole(userProfile, 'instructor', 'admin');

  app.post<{ Body: CreateExerciseRequest }>(
    '/api/exercises',
    {
      preHandler: authors,
      bodyLimit: MAX_EXERCISE_BODY_BYTES,
      schema: {
        summary:
          'Author an exercise as a draft (instructors and admins): a start state, the task in Markdown, a reference solution, hidden datasets and how answers compare.',
        tags,
        security,
        body: CreateExerciseRequest,
        response: { 201: AuthoredExercise, 401: Problem, 403: Problem, 409: Problem, 413: Problem, 422: Problem },
      },
    },
    async (request, reply) => forward(exercises(), request, reply, '/exercises', request.body),
  );
  app.get(
    '/api/exercises',
    {
      schema: {
        summary:
          'The catalog: published exercises by slug (at most 500); an instructor also sees their own drafts, an admin every draft.',
        tags,
        security,
        response: { 200: ExerciseList, 401: Problem },
      },
    },
    async (request, reply) => forward(exercises(), request, reply, '/exercises'),
  );
  app.get(
    '/api/me/progress',
    {
      schema: {
        summary: 'Your progress: attempts per exercise and when you first solved it (kept across an upgrade).',
        tags,
        security,
        response: { 200: ProgressList, 401: Problem },
      },
    },
    async (request, reply) => forward(exercises(), request, reply, '/me/progress'),
  );
  app.get<{ Params: ExerciseIdParams }>(
    '/api/exercises/:id',
    {
      schema: {
        summary:
          'An exercise: everything to its author and to admins; to everyone else the published exercise without its solution or hidden datasets.',
        tags,
        security,
        params: ExerciseIdParams,
        response: { 200: ExerciseView, 401: Problem, 404: Problem },
      },
    },
    async (request, reply) => forward(exercises(), request, reply, `/exercises/${request.params.id}`),
  );
  app.put<{ Params: ExerciseIdParams; Body: UpdateExerciseRequest }>(
    '/api/exercises/:id',
    {
      preHandler: authors,
      bodyLimit: MAX_EXERCISE_BODY_BYTES,
      schema: {
        summary:
          'Change an exercise as a whole (its author or an admin), validated as POST validates it. A published exercise keeps serving its current publication to learners and attempts until it is published again, which measures and publishes the change.',
        tags,
        security,
        params: ExerciseIdParams,
        body: UpdateExerciseRequest,
        response: {
          200: AuthoredExercise,
          401: Problem,
          403: Problem,
          404: Problem,
          409: Problem,
          413: Problem,
          422: Problem,
        },
      },
    },
    async (request, reply) => forward(exercises(), request, reply, `/exercises/${request.params.id}`, request.body),
  );
  app.post<{ Params: ExerciseIdParams }>(
    '/api/exercises/:id/publish',
    {
      preHandler: authors,
      schema: {
        summary:
          "Measure the exercise (its reference's mutants run on the start state and every hidden dataset on throwaway clones) and publish it when the kill score reaches its minimum (its author or an admin).",
        tags,
        security,
        params: ExerciseIdParams,
        response: {
          200: PublishResult,
          401: Problem,
          403: Problem,
          404: Problem,
          409: Problem,
          422: Problem,
          503: Problem,
        },
      },
    },
    async (request, reply) => {
      const upstream = exercises();
      const timeoutMs = Math.max(upstream.timeoutMs, PUBLISH_TIMEOUT_MS);
      return forward({ ...upstream, timeoutMs }, request, reply, `/exercises/${request.params.id}/publish`);
    },
  );
  app.delete<{ Params: ExerciseIdParams }>(
    '/api/exercises/:id/publication',
    {
      preHandler: authors,
      schema: {
        summary:
          'Unpublish an exercise (its author or an admin): it becomes a draft again, learners no longer see or attempt it, and its states are no longer kept pinned and warm. Its attempts stay; publishing again makes the next version.',
        tags,
        security,
        params: ExerciseIdParams,
        response: {
          204: { type: 'null', description: 'Unpublished (or already a draft).' },
          401: Problem,
          403: Problem,
          404: Problem,
          503: Problem,
        },
      },
    },
    async (request, reply) => forward(exercises(), request, reply, `/exercises/${request.params.id}/publication`),
  );
  app.post<{ Params: ExerciseIdParams; Body: AttemptRequest }>(
    '/api/exercises/:id/attempts',
    {
      schema: {
        summary:
          "Submit an answer to a published exercise: it runs on a fresh throwaway clone of the start state and of each hidden dataset (never on the caller's instance) and answers, per dataset, passed or why not (columns, rows missing or extra with a few of them, order, an error with its place, the time limit).",
        tags,
        security,
        params: ExerciseIdParams,
        body: AttemptRequest,
        response: { 200: AttemptResult, 401: Problem, 404: Problem, 422: Problem, 503: Problem },
      },
    },
    async (request, reply) =>
      forward(exercises(), request, reply, `/exercises/${request.params.id}/attempts`, request.body),
  );
  app.get<{ Params: ExerciseIdParams }>(
    '/api/exercises/:id/stats',
    {
      preHandler: authors,
      schema: {
        summary:
          'How learners fare on an exercise (its author or an admin): attempts, learners, solve rate, and the 10 most common wrong results, grouped by what they returned on every dataset, each with its count and one example answer with its verdict.',
        tags,
        security,
        params: ExerciseIdParams,
        response: { 200: ExerciseStats, 401: Problem, 403: Problem, 404: Problem },
      },
    },
    async (request, reply) => forward(exercises(), request, reply, `/exercises/${request.params.id}/stats`),
  );
}
