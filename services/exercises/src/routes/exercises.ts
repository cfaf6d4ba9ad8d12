import {
  AttemptRequest,
  AttemptResult,
  AuthoredExercise,
  CreateExerciseRequest,
  ExerciseIdParams,
  ExerciseList,
  ExerciseView,
  MAX_EXERCISE_BODY_BYTES,
  MAX_EXERCISE_LIST,
  ProgressList,
  type PublishedExercise,
  PublishResult,
  UpdateExerciseRequest,
} from '@taidon/contracts';
import { ACCOUNT_HEADER, type AuditSink, DomainError, ROLE_HEADER } from '@taidon/kit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type pg from 'pg';
import type { ThrowawayQueries } from '../clients/sql-runner.js';
import { gradeAttempt } from '../domain/attempt.js';
import { validateExercise } from '../domain/authoring.js';
import { measureAndPublish } from '../domain/packs/publish-one.js';
import { releasePublicationLayers } from '../domain/publication-layers.js';
import type { MeasureSettings } from '../domain/publish.js';
import { gradeWriteAttempt, verdictDigest, type WriteReference } from '../domain/write.js';
import { ExercisesError } from '../errors.js';
import { type ExerciseMetrics, observed } from '../metrics.js';
import { updateExercise } from '../store/drafts.js';
import {
  currentPublication,
  insertExercise,
  listExercises,
  type PublishedContent,
  progressOf,
  recordAttempt,
  selectExercise,
} from '../store/exercises.js';
import { unpublish, withPublicationLock } from '../store/publication.js';
import { registerStatsRoute } from './stats.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Roles that author exercises. */
const AUTHORS = new Set(['instructor', 'admin']);

interface Caller {
  accountId: string;
  role: string;
}

/** The account and role the gateway verified; every exercise route acts for one. */
function callerOf(request: FastifyRequest): Caller {
  const account = request.headers[ACCOUNT_HEADER];
  if (typeof account !== 'string' || !UUID.test(account)) {
    throw new ExercisesError(
      'EXERCISES_ACCOUNT_REQUIRED',
      `Exercise routes act for an account: send ${ACCOUNT_HEADER}.`,
    );
  }
  const role = request.headers[ROLE_HEADER];
  return { accountId: account.toLowerCase(), role: typeof role === 'string' ? role : 'anonymous' };
}

function requireAuthor(caller: Caller): void {
  if (!AUTHORS.has(caller.role)) {
    throw new ExercisesError('EXERCISES_FORBIDDEN', 'Authoring exercises is for instructor and admin accounts.', {
      details: { role: caller.role },
    });
  }
}

/** The author's view to its author and to admins. */
const seesAll = (exercise: AuthoredExercise, caller: Caller) =>
  caller.role === 'admin' || (AUTHORS.has(caller.role) && exercise.authorId === caller.accountId);

/** What learners are shown and graded on: the current publication's content (a PUT since changes the draft only). */
function publishedContent(exercise: AuthoredExercise, content: PublishedContent | undefined): PublishedContent {
  return content ?? exercise;
}

function learnerView(exercise: AuthoredExercise, content?: PublishedContent): PublishedExercise {
  const shown = publishedContent(exercise, content);
  return {
    id: exercise.id,
    slug: exercise.slug,
    title: shown.title,
    task: shown.task,
    kind: shown.kind,
    setup: shown.setup,
    status: 'published',
    publishedAt: exercise.publishedAt as string,
  };
}

/** What the publish route needs besides the pool. */
export interface PublishDeps {
  grader: ThrowawayQueries;
  settings: Omit<MeasureSettings, 'as'>;
  /** Time limit of an attempt's SQL on each dataset (EXERCISES_ATTEMPT_TIMEOUT_MS). */
  attemptTimeoutMs: number;
  /** Publishes measured at once by this service; one more is refused (EXERCISES_GRADER_BUSY). */
  maxConcurrentPublishes: number;
  metrics: ExerciseMetrics;
  audit?: AuditSink;
}

/**
 * `/exercises*` (the gateway forwards `/api/exercises*` with the verified
 * caller): authoring (instructor, admin), publishing after the mutation
 * measure (the author or an admin), reading (the learner's view without
 * solution or datasets to everyone else, published exercises only).
 */
export function registerExerciseRoutes(app: FastifyInstance, pool: pg.Pool, deps: PublishDeps): void {
  app.post<{ Body: CreateExerciseRequest }>(
    '/exercises',
    { schema: { body: CreateExerciseRequest }, bodyLimit: MAX_EXERCISE_BODY_BYTES },
    async (request, reply) => {
      const caller = callerOf(request);
      requireAuthor(caller);
      // A reference that does not parse (a query's: is not one SELECT) is refused before anything is stored.
      validateExercise(request.body);
      const exercise = await insertExercise(pool, caller.accountId, request.body);
      reply.code(201);
      return exercise;
    },
  );

  app.put<{ Params: ExerciseIdParams; Body: UpdateExerciseRequest }>(
    '/exercises/:id',
    {
      schema: { params: ExerciseIdParams, body: UpdateExerciseRequest, response: { 200: AuthoredExercise } },
      bodyLimit: MAX_EXERCISE_BODY_BYTES,
    },
    async (request) => {
      const caller = callerOf(request);
      requireAuthor(caller);
      const exercise = await selectExercise(pool, request.params.id);
      if (!exercise || (!seesAll(exercise, caller) && exercise.status !== 'published')) {
        throw new ExercisesError('EXERCISES_NOT_FOUND', `No exercise ${request.params.id}.`);
      }
      if (!seesAll(exercise, caller)) {
        throw new ExercisesError('EXERCISES_FORBIDDEN', "Only the exercise's author or an admin changes it.");
      }
      validateExercise(request.body);
      const updated = await updateExercise(pool, exercise.id, request.body);
      if (!updated) throw new ExercisesError('EXERCISES_NOT_FOUND', `No exercise ${request.params.id}.`);
      deps.audit?.record({
        action: 'exercise-updated',
        accountId: caller.accountId,
        target: exercise.id,
        requestId: request.id,
        detail: { slug: updated.slug, status: updated.status },
      });
      deps.metrics.updates.inc({ status: exercise.status });
      return updated;
    },
  );

  app.get('/exercises', { schema: { response: { 200: ExerciseList } } }, async (request) => {
    const caller = callerOf(request);
    const drafts = caller.role === 'admin' ? 'all' : AUTHORS.has(caller.role) ? caller.accountId : undefined;
    return listExercises(pool, drafts, MAX_EXERCISE_LIST);
  });

  app.get('/me/progress', { schema: { response: { 200: ProgressList } } }, async (request) =>
    progressOf(pool, callerOf(request).accountId, MAX_EXERCISE_LIST),
  );

  app.get<{ Params: ExerciseIdParams }>(
    '/exercises/:id',
    { schema: { params: ExerciseIdParams, response: { 200: ExerciseView } } },
    async (request) => {
      const caller = callerOf(request);
      const exercise = await selectExercise(pool, request.params.id);
      if (exercise && seesAll(exercise, caller)) return exercise;
      if (exercise?.status === 'published')
        return learnerView(exercise, (await currentPublication(pool, exercise.id))?.content);
      throw new ExercisesError('EXERCISES_NOT_FOUND', `No exercise ${request.params.id}.`);
    },
  );

  let publishing = 0;
  app.post<{ Params: ExerciseIdParams }>(
    '/exercises/:id/publish',
    { schema: { params: ExerciseIdParams, response: { 200: PublishResult } } },
    async (request) =>
      observed(
        deps.metrics.publishes,
        deps.metrics.publishSeconds,
        () => 'published',
        async () => {
          const caller = callerOf(request);
          requireAuthor(caller);
          const exercise = await selectExercise(pool, request.params.id);
          if (!exercise || (!seesAll(exercise, caller) && exercise.status !== 'published')) {
            throw new ExercisesError('EXERCISES_NOT_FOUND', `No exercise ${request.params.id}.`);
          }
          if (!seesAll(exercise, caller)) {
            throw new ExercisesError('EXERCISES_FORBIDDEN', "Only the exercise's author or an admin publishes it.");
          }
          if (publishing >= deps.maxConcurrentPublishes) {
            throw new ExercisesError(
              'EXERCISES_GRADER_BUSY',
              'Other exercises are being measured; try again in a moment.',
              {
                details: { retryAfterSeconds: 5 },
              },
            );
          }
          publishing++;
          let published: Awaited<ReturnType<typeof measureAndPublish>>;
          try {
            // A hold that fails costs attempts their speed, not their answers (ADR 0044): told, not thrown.
            published = await measureAndPublish(
              { pool, grader: deps.grader, metrics: deps.metrics, ...(deps.audit ? { audit: deps.audit } : {}) },
              exercise,
              { ...deps.settings, as: { accountId: caller.accountId, role: caller.role, requestId: request.id } },
              (error) => request.log.warn({ err: error }, "the publication's layers could not be held"),
            );
          } finally {
            publishing--;
          }
          const { publishedAt, report } = published;
          return { id: exercise.id, status: 'published' as const, publishedAt: publishedAt.toISOString(), report };
        },
      ),
  );

  app.delete<{ Params: ExerciseIdParams }>(
    '/exercises/:id/publication',
    { schema: { params: ExerciseIdParams } },
    async (request, reply) => {
      const caller = callerOf(request);
      requireAuthor(caller);
      const exercise = await selectExercise(pool, request.params.id);
      if (!exercise || (!seesAll(exercise, caller) && exercise.status !== 'published')) {
        throw new ExercisesError('EXERCISES_NOT_FOUND', `No exercise ${request.params.id}.`);
      }
      if (!seesAll(exercise, caller)) {
        throw new ExercisesError('EXERCISES_FORBIDDEN', "Only the exercise's author or an admin unpublishes it.");
      }
      // The row, then the layers let go, under the publication lock a publish takes for its row and its hold.
      await withPublicationLock(pool, exercise.id, async () => {
        const was = await unpublish(pool, exercise.id);
        try {
          // Also for a draft: a release that failed after an earlier unpublish is retried by calling again.
          await releasePublicationLayers(deps.grader, exercise.id, request.id);
        } finally {
          // The row changed whether or not the release then failed: the audit says so either way.
          if (was) {
            deps.audit?.record({
              action: 'exercise-unpublished',
              accountId: caller.accountId,
              target: exercise.id,
              requestId: request.id,
              detail: { slug: exercise.slug },
            });
          }
        }
      });
      return reply.code(204).send();
    },
  );

  app.post<{ Params: ExerciseIdParams; Body: AttemptRequest }>(
    '/exercises/:id/attempts',
    { schema: { params: ExerciseIdParams, body: AttemptRequest, response: { 200: AttemptResult } } },
    async (request) =>
      observed(
        deps.metrics.attempts,
        deps.metrics.attemptSeconds,
        (r) => (r.passed ? 'passed' : 'failed'),
        async () => {
          const started = performance.now();
          const caller = callerOf(request);
          // Both reads at once, one round trip's wait on the attempt's path: the publication is looked for by the
          // id asked, and counts only for an exercise that is published.
          const [exercise, latest] = await Promise.all([
            selectExercise(pool, request.params.id),
            currentPublication(pool, request.params.id),
          ]);
          const publication = exercise?.status === 'published' ? latest : undefined;
          if (!exercise || !publication)
            throw new ExercisesError('EXERCISES_NOT_FOUND', `No exercise ${request.params.id}.`);
          // Graded on what was published: a PUT since then changes the draft, not this.
          const graded = publishedContent(exercise, publication.content);
          const gradedExercise = {
            setupSql: graded.setup.sql,
            solution: graded.solution,
            datasets: graded.datasets,
            compare: graded.compare,
            equivalentMutants: [],
          };
          const as = { accountId: caller.accountId, role: caller.role, requestId: request.id };
          let checks: Awaited<ReturnType<typeof gradeAttempt>> = [];
          let digests: string[] = [];
          try {
            if (graded.kind === 'write') {
              ({ checks, digests } = await gradeWriteAttempt(
                deps.grader,
                { ...gradedExercise, references: publication.references as WriteReference[] },
                request.body.sql,
                { as, timeoutMs: deps.attemptTimeoutMs, startSampleRows: 3, hiddenSampleRows: 2 },
              ));
            } else {
              checks = await gradeAttempt(
                deps.grader,
                { ...gradedExercise, references: publication.references },
                request.body.sql,
                { as, timeoutMs: deps.attemptTimeoutMs, onDigest: (i, digest) => (digests[i] = digest) },
              );
            }
          } catch (error) {
            // A dataset that fails to build during an attempt is the author's: its name, SQL error and line
            // are logged for them and never reach the learner, who is told only that grading is unavailable.
            if (!isSetupFailure(error)) throw error;
            const { code, message, details } = error as DomainError;
            request.log.error(
              // The fields, not the error: a DomainError is frozen, which pino's error serializer cannot tag.
              { exerciseId: exercise.id, failure: { code, message, details: { ...details } } },
              "an exercise's dataset failed to build during an attempt",
            );
            throw new ExercisesError(
              'EXERCISES_GRADING_UNAVAILABLE',
              'This exercise cannot be graded right now; its author has been told.',
            );
          }
          const passed = checks.every((c) => c.passed);
          const totalMs = Math.round(performance.now() - started);
          const id = await recordAttempt(pool, {
            exerciseId: exercise.id,
            publication: publication.version,
            accountId: caller.accountId,
            sql: request.body.sql,
            passed,
            checks,
            totalMs,
            verdictDigest: verdictDigest(checks, digests),
          });
          return { id, passed, checks, timings: { totalMs } };
        },
      ),
  );

  registerStatsRoute(app, pool, {
    authorOnly: (exercise, caller) => seesAll(exercise, caller),
    callerOf,
    requireAuthor,
  });
}

/** A start state or hidden dataset that failed to build: as the measure names it, or as sql-runner does. */
function isSetupFailure(error: unknown): boolean {
  return (
    error instanceof DomainError &&
    (error.code === 'EXERCISES_SETUP_FAILED' || error.code === 'SQL_RUNNER_THROWAWAY_TAIL_FAILED')
  );
}
