import { randomUUID } from 'node:crypto';
import { RunRequest } from '@taidon/contracts';
import { ACCOUNT_HEADER, ROLE_HEADER, UnauthorizedError } from '@taidon/kit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Chain, ChainOptions, SourceFile } from '../domain/chain/index.js';
import { rekeyChain } from '../domain/chain/keys.js';
import type { EngineIdentity } from '../domain/engine.js';
import { sourceFiles } from '../domain/plan.js';
import type { RunnerDeps } from '../domain/runs/context.js';
import { executeRun, openSession, type PlannedRun, type RunRegistry } from '../domain/runs/run.js';
import type { Shares } from '../domain/shares/shares.js';
import type { Planner } from '../planner/pool.js';
import { deleteNewSession } from '../store/sessions.js';
import { admitRun, quotasOf } from './run-quota.js';
import { openRunStream } from './run-stream.js';

/** Path given to the head in steps and errors. */
export const HEAD_PATH = 'head.sql';

function ownerOf(request: FastifyRequest): string {
  const owner = request.headers[ACCOUNT_HEADER];
  if (typeof owner !== 'string' || owner === '')
    throw new UnauthorizedError('UNAUTHORIZED', 'A run needs the account it runs for.');
  return owner;
}

/** A run's request planned, its session opened and the run admitted under the quotas: ready to stream. */
async function admitRequest(
  request: FastifyRequest<{ Body: RunRequest }>,
  reply: FastifyReply,
  ownerId: string,
  deps: RunnerDeps,
  planChain: (files: SourceFile[], options: ChainOptions) => Promise<Chain>,
  chainOptions: ChainOptions,
  shares: Shares,
): Promise<PlannedRun> {
  // The account's quotas are asked for while the SQL is planned; the run is admitted under them after.
  const quotasAsked = quotasOf(deps.quota, request, ownerId);
  quotasAsked.catch(() => {});
  const started = performance.now();
  const head = [{ path: HEAD_PATH, sql: request.body.head }];
  const planned = (async () => {
    // A share's tail is the one it keeps (a 404 for a link revoked or expired, before anything starts); a
    // project's is its scripts (a 404 for a project not the account's, before anything starts).
    const tailInput = await shares.resolveTail(request.body.tail, ownerId);
    const tail = tailInput ? await planChain(sourceFiles(tailInput), chainOptions) : undefined;
    const emptyTail = await planChain([], chainOptions);
    const checkKey = tail?.finalKey ?? emptyTail.baseKey;
    const checked = await planChain(head, { ...chainOptions, startKey: checkKey, keepCanonical: true });
    return { tail, emptyTail, checkKey, checked, planMs: Math.round(performance.now() - started) };
  })();
  planned.catch(() => {});
  // The session is opened meanwhile too. A run refused or with errors in its SQL takes back a session it
  // created, so such a run leaves nothing behind, as when the session was opened after them.
  const opening = openSession(deps, ownerId, request.body.sessionId ?? randomUUID());
  opening.catch(() => {});
  let planning: Awaited<typeof planned>;
  let opened: Awaited<typeof opening>;
  let admitted: Awaited<ReturnType<typeof admitRun>>;
  try {
    const quotas = await quotasAsked;
    planning = await planned;
    opened = await opening;
    admitted = await admitRun(deps.quota, quotas, request, reply, ownerId, opened, planning.tail?.finalKey ?? null);
  } catch (error) {
    await opening.then((s) => (s.created ? deleteNewSession(deps.pool, s.id) : undefined)).catch(() => {});
    throw error;
  }
  const role = request.headers[ROLE_HEADER];
  const ownerRole = typeof role === 'string' && role !== '' ? { ownerRole: role } : {};
  return {
    ownerId,
    session: { ...opened, ...ownerRole },
    tail: planning.tail,
    emptyTail: planning.emptyTail,
    // The head checked above is the head run: planned once. A run that starts elsewhere than the check assumed
    // (a head alone on a session that moved on) only moves its keys there.
    planHead: async (startKey) =>
      startKey === planning.checkKey ? planning.checked : rekeyChain(planning.checked, startKey),
    planMs: planning.planMs,
    ...(admitted ? { admitted } : {}),
  };
}

/**
 * `POST /runs` streams a run as NDJSON events; everything that can be wrong
 * with the SQL itself (syntax, meta-commands) is answered first as a 422,
 * and a refusal under the quotas as a 429, before any instance is touched.
 * `POST /runs/:id/cancel` cancels a run of the same account; a client that
 * closes the stream cancels it too. A tail `{ share }` runs the share's
 * tail, whose layer the link pins once its first run has built it; a tail
 * `{ project, ref? }` runs the project's init/ and seed/ scripts.
 */
export function registerRunRoutes(
  app: FastifyInstance,
  engine: EngineIdentity,
  deps: RunnerDeps,
  registry: RunRegistry,
  planner: Planner,
  shares: Shares,
): void {
  const chainOptions = { engineVersion: engine.version, settings: { ...engine.settings } };

  app.post<{ Body: RunRequest }>(
    '/runs',
    { schema: { body: RunRequest }, bodyLimit: 64 * 1024 * 1024 },
    async (request, reply) => {
      const startedAt = performance.now();
      const ownerId = ownerOf(request);
      // In the planner's workers, never on this event loop; one plan of the account at a time.
      const planChain = (files: SourceFile[], options: ChainOptions) => planner.plan(files, options, ownerId);
      const plan = await admitRequest(request, reply, ownerId, deps, planChain, chainOptions, shares);
      const stream = openRunStream(reply, request.id, startedAt);
      // A run that ended meanwhile is not found any more: nothing is left to cancel.
      stream.onClientGone((runId) => void registry.cancel(runId, ownerId, 'client-closed').catch(() => {}));
      try {
        const ended = await executeRun(deps, registry, plan, stream.emit, request.id);
        if (ended.failure) request.log.error({ err: ended.failure.cause, phase: ended.failure.phase }, 'run failed');
      } finally {
        stream.end();
      }
      const tail = request.body.tail;
      // Not awaited by the run: a pin that fails now is taken by the share sweep.
      if (tail && 'share' in tail) void shares.afterRun(tail.share, request.id).catch(() => {});
    },
  );

  app.post<{ Params: { id: string } }>(
    '/runs/:id/cancel',
    {
      schema: { params: { type: 'object', properties: { id: { type: 'string', format: 'uuid' } }, required: ['id'] } },
    },
    async (request, reply) => {
      await registry.cancel(request.params.id, ownerOf(request), 'request');
      reply.code(202);
      return { cancelled: true };
    },
  );
}
