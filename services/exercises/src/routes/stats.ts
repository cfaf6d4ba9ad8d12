import { type AuthoredExercise, ExerciseIdParams, ExerciseStats } from '@taidon/contracts';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type pg from 'pg';
import { ExercisesError } from '../errors.js';
import { selectExercise } from '../store/exercises.js';
import { exerciseStats } from '../store/stats.js';

interface Caller {
  accountId: string;
  role: string;
}

/**
 * `GET /exercises/:id/stats`: the instructors' view of one exercise (its author and admins; to anyone else
 * the exercise does not exist): attempts, learners, solve rate and the most common wrong results.
 */
export function registerStatsRoute(
  app: FastifyInstance,
  pool: pg.Pool,
  access: {
    callerOf: (request: FastifyRequest) => Caller;
    requireAuthor: (caller: Caller) => void;
    authorOnly: (exercise: AuthoredExercise, caller: Caller) => boolean;
  },
): void {
  app.get<{ Params: ExerciseIdParams }>(
    '/exercises/:id/stats',
    { schema: { params: ExerciseIdParams, response: { 200: ExerciseStats } } },
    async (request) => {
      const caller = access.callerOf(request);
      access.requireAuthor(caller);
      const exercise = await selectExercise(pool, request.params.id);
      if (!exercise || !access.authorOnly(exercise, caller)) {
        throw new ExercisesError('EXERCISES_NOT_FOUND', `No exercise ${request.params.id}.`);
      }
      return exerciseStats(pool, exercise.id);
    },
  );
}
