import type { IncomingMessage } from 'node:http';
import { Problem, RUN_STREAM_CONTENT_TYPE, RunRequest, UnplannableProblem } from '@taidon/contracts';
import { ACCOUNT_HEADER, PROBLEM_CONTENT_TYPE, ROLE_HEADER, SERVICE_TOKEN_HEADER, streamRequest } from '@taidon/kit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { upstreamUnavailable } from '../errors.js';
import { forward, readProblem, type Upstream } from '../upstream.js';

const RUN_BODY_LIMIT_BYTES = 64 * 1024 * 1024;

/**
 * Streams an NDJSON answer of sql-runner's `path` (a run, a project's tests)
 * to the browser as it comes. A browser that goes away aborts the upstream
 * request, which sql-runner takes as a cancel.
 */
export async function streamFromSqlRunner(
  sqlRunner: Upstream,
  request: FastifyRequest,
  reply: FastifyReply,
  path = '/runs',
): Promise<FastifyReply> {
  const abort = new AbortController();
  // The response closing before it finished means the browser went away (the request's own 'close' fires once its body is read).
  reply.raw.on('close', () => {
    if (!reply.raw.writableFinished) abort.abort();
  });
  const user = request.user as { sub: string; role: string };
  let response: IncomingMessage;
  try {
    response = await streamRequest(new URL(path, sqlRunner.baseUrl), {
      method: 'POST',
      headers: {
        [SERVICE_TOKEN_HEADER]: sqlRunner.serviceToken,
        [ACCOUNT_HEADER]: user.sub,
        [ROLE_HEADER]: user.role,
        'x-request-id': request.id,
        'content-type': 'application/json',
      },
      body: JSON.stringify(request.body ?? {}),
      signal: abort.signal,
    });
  } catch (error) {
    throw upstreamUnavailable('A service behind the gateway did not answer.', error);
  }
  const type = response.headers['content-type'] ?? 'application/json';
  reply
    .code(response.statusCode ?? 502)
    .type(type)
    .header('cache-control', 'no-store');
  const retryAfter = response.headers['retry-after'];
  if (retryAfter) reply.header('retry-after', retryAfter);
  // A refusal instead of a stream is read whole, so its `instance` is the browser's path (registerPublicProblemPaths).
  if (type.startsWith(PROBLEM_CONTENT_TYPE)) return reply.send(await readProblem(response));
  // An upstream that breaks off mid-stream ends the browser's stream too (it sees no `done`).
  response.on('error', () => {});
  return reply.send(response);
}

/** `POST /api/runs` (NDJSON stream) and `POST /api/runs/:id/cancel`, answered by sql-runner. */
export function registerRunRoutes(app: FastifyInstance, sqlRunner: Upstream): void {
  app.post<{ Body: RunRequest }>(
    '/api/runs',
    {
      bodyLimit: RUN_BODY_LIMIT_BYTES,
      schema: {
        summary: `Run a head on the state a tail defines; the answer is a stream of ${RUN_STREAM_CONTENT_TYPE} events.`,
        tags: ['runs'],
        security: [{ bearerAuth: [] }],
        body: RunRequest,
        // 404: a `tail: { share }` naming no live share link, or a `tail: { project }` naming no project of yours;
        // 422 also a project `ref` the project lacks. A project's scripts past a chain's bounds (413) and project
        // tails this deployment does not serve (503) are among the common refusals.
        response: { 401: Problem, 404: Problem, 422: UnplannableProblem },
      },
    },
    async (request, reply) => streamFromSqlRunner(sqlRunner, request, reply),
  );
  app.post<{ Params: { id: string } }>(
    '/api/runs/:id/cancel',
    {
      schema: {
        summary: 'Cancel a run of yours that is in progress; its stream ends with a `cancelled` event.',
        tags: ['runs'],
        security: [{ bearerAuth: [] }],
        params: { type: 'object', properties: { id: { type: 'string', format: 'uuid' } }, required: ['id'] },
        response: { 401: Problem, 404: Problem },
      },
    },
    async (request, reply) => forward(sqlRunner, request, reply, `/runs/${request.params.id}/cancel`, {}),
  );
}
