import {
  MAX_PROJECT_TEST_FILES,
  type ProjectTestEvent,
  ProjectTestsRequest,
  RUN_STREAM_CONTENT_TYPE,
} from '@taidon/contracts';
import { ACCOUNT_HEADER, UnauthorizedError } from '@taidon/kit';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ChainOptions } from '../domain/chain/index.js';
import type { ProjectTails } from '../domain/projects/project-tails.js';
import { fileOptions, runProjectTests, sourcesFor, testFilesOf } from '../domain/projects/project-tests.js';
import type { RunnerDeps } from '../domain/runs/context.js';
import { RunFailure } from '../domain/runs/failure.js';
import type { ThrowawayClones } from '../domain/throwaway/clones.js';
import { SqlRunnerError } from '../errors.js';
import type { Planner } from '../planner/pool.js';
import { HEARTBEAT_MS } from './run-stream.js';
import { withRetryAfter } from './throwaway-refusals.js';

/** Settings of project tests (TESTS_CONCURRENCY). */
export interface ProjectTestSettings {
  /** Files of one request run at once, at most (each on its own clone; the account's throwaway bound applies too). */
  concurrency: number;
}

/** An NDJSON answer of test events, with a heartbeat; `gone` once the client left. */
function openTestStream(reply: FastifyReply, requestId: string, startedAt: number) {
  reply.hijack();
  const raw = reply.raw;
  raw.writeHead(200, {
    'content-type': RUN_STREAM_CONTENT_TYPE,
    'cache-control': 'no-store',
    'x-request-id': requestId,
  });
  raw.flushHeaders();
  let gone = false;
  let ended = false;
  raw.on('close', () => {
    if (!ended) gone = true;
  });
  let phase = 'restore';
  const write = (event: ProjectTestEvent) => {
    if (event.type === 'progress') phase = event.phase;
    else if (event.type === 'prepared') phase = 'execute';
    if (!raw.writableEnded) raw.write(`${JSON.stringify(event)}\n`);
  };
  const heartbeat = setInterval(
    () => write({ type: 'heartbeat', phase, elapsedMs: Math.round(performance.now() - startedAt) }),
    HEARTBEAT_MS,
  );
  return {
    emit: write,
    gone: () => gone,
    end() {
      ended = true;
      clearInterval(heartbeat);
      raw.end();
    },
  };
}

/**
 * `POST /projects/:id/tests`: the project's test/ and bench/ files, each on
 * its own throwaway clone of its init/ + seed/ state, streamed as NDJSON
 * (ProjectTestEvent). Refused before the stream: a project not the caller's
 * (vcs-sync's 404), its chain's SQL (422), more than MAX_PROJECT_TEST_FILES
 * files (422), no throwaway clone free (429/503, Retry-After).
 */
export function registerProjectTestRoutes(
  app: FastifyInstance,
  deps: RunnerDeps,
  clones: ThrowawayClones,
  planner: Planner,
  projects: ProjectTails,
  chainOptions: ChainOptions,
  settings: ProjectTestSettings,
): void {
  app.post<{ Params: { id: string }; Body: ProjectTestsRequest | undefined }>(
    '/projects/:id/tests',
    {
      schema: {
        params: { type: 'object', properties: { id: { type: 'string', format: 'uuid' } }, required: ['id'] },
        body: ProjectTestsRequest,
      },
    },
    async (request, reply) => {
      const startedAt = performance.now();
      const ownerId = request.headers[ACCOUNT_HEADER];
      if (typeof ownerId !== 'string' || ownerId === '')
        throw new UnauthorizedError('UNAUTHORIZED', "A project's tests need the account they run for.");
      const ref = request.body?.ref;
      const { files: scripts } = await projects.resolve(
        { project: request.params.id, ...(ref ? { ref } : {}) },
        ownerId,
      );
      const files = testFilesOf(scripts);
      if (files.length > MAX_PROJECT_TEST_FILES) {
        throw new SqlRunnerError(
          'SQL_RUNNER_TESTS_TOO_MANY_FILES',
          `The project has ${files.length} test and bench files; one request runs at most ${MAX_PROJECT_TEST_FILES}.`,
          { details: { files: files.length, max: MAX_PROJECT_TEST_FILES } },
        );
      }
      const plan = (sources: Parameters<Planner['plan']>[0], options: ChainOptions) =>
        planner.plan(sources, options, ownerId);
      const tail = await plan(scripts, chainOptions);
      const reservation = await withRetryAfter(reply, () =>
        clones.reserve(ownerId, Math.max(1, Math.min(settings.concurrency, files.length))),
      );
      const stream = openTestStream(reply, request.id, startedAt);
      try {
        await runProjectTests(
          deps,
          reservation,
          {
            ownerId,
            requestId: request.id,
            tail,
            files,
            planFile: (path) => plan(sourcesFor(scripts, path), fileOptions(chainOptions, tail)),
          },
          stream.emit,
          stream.gone,
        );
      } catch (error) {
        const failure = error instanceof RunFailure ? error : new RunFailure('execute', error);
        request.log.error({ err: failure.cause, phase: failure.phase }, 'project tests failed');
        stream.emit(failure.event());
      } finally {
        void reservation.release(); // once the last clones are deleted, after the stream ended
        stream.end();
      }
    },
  );
}
