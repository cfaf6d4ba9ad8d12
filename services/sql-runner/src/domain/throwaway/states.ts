import { createHash, randomUUID } from 'node:crypto';
import { NotFoundError } from '@taidon/kit';
import { SqlRunnerError } from '../../errors.js';
import { selectSession } from '../../store/sessions.js';
import type { Chain } from '../chain/index.js';
import { type RunnerDeps, RunState } from '../runs/context.js';
import type { Emit } from '../runs/execute.js';
import { fromLayer } from '../runs/start-state/from-layer.js';
import { keyPath, lookup, takeLayer } from '../runs/start-state/restore.js';
import type { StartRequest } from '../runs/start-state/strategy.js';
import { type ThrowawayReservation, throwawayOwner } from './clones.js';

/**
 * Where a throwaway clone's state came from: `layer`, a cached layer of its
 * key; `built`, a layer this request built (replayed from the deepest cached
 * one); `session-snapshot`, a private layer of the session's running
 * instance, taken for this request and deleted after it.
 */
export type ThrowawaySource = 'layer' | 'built' | 'session-snapshot';

/** A state throwaway clones can be made of: a layer, and how it was had. */
export interface ThrowawayState {
  /** The layer clones are made of. */
  layerKey: string;
  /** The state's key as chains name it: K(tail), or the session's current key (null when the session's is unknown). */
  stateKey: string | null;
  source: ThrowawaySource;
  /** Tail steps replayed to build it (0 unless `built`). */
  stepsReplayed: number;
  prepareMs: number;
  /** Deletes what was made only for this request (the private layer of a session snapshot); never throws. */
  dispose(): Promise<void>;
}

const nothingToDispose = async () => {};

/**
 * A layer of K(tail): the cached one, else built under the key's lock as a
 * run builds it (the deepest cached layer plus a replay, layers taken at
 * script boundaries), on an instance of its own that is deleted after. The
 * builder holds one of the reservation's slots. Progress and a replayed
 * step's `error` go to `emit`; a replay that fails throws ReplayFailed
 * (inside StartAborted), as runs do.
 */
export async function layerOfTail(
  deps: RunnerDeps,
  reservation: ThrowawayReservation,
  request: {
    ownerId: string;
    tail: Chain;
    requestId: string;
    emit: Emit;
    /** The tail's final key is held with its layer pinned (a published exercise's state): no lookup needed. */
    pinned?: boolean;
  },
): Promise<ThrowawayState> {
  const started = performance.now();
  const { tail } = request;
  const run = new RunState(randomUUID(), request.emit, request.requestId);
  const path = keyPath(tail);
  const answer = (source: ThrowawaySource, stepsReplayed: number): ThrowawayState => ({
    layerKey: tail.finalKey,
    stateKey: tail.finalKey,
    source,
    stepsReplayed,
    prepareMs: Math.round(performance.now() - started),
    dispose: nothingToDispose,
  });
  // A pinned layer is never evicted while held (ADR 0044): the snapshot-cache round trip leaves the entry's path.
  if (request.pinned) return answer('layer', 0);
  if ((await lookup(deps, run, path)).index === path.length - 1) return answer('layer', 0);
  return deps.locks.withLock(tail.finalKey, async () => {
    const found = await lookup(deps, run, path);
    if (found.index === path.length - 1) return answer('layer', 0);
    const builder = { id: `throwaway-${randomUUID()}`, ...throwawayOwner(request.ownerId) };
    const start: StartRequest = {
      deps,
      run,
      session: { ...builder, instanceId: null, currentKey: null },
      tail,
      continues: false,
    };
    return reservation.inSlot(async () => {
      const state = await fromLayer(start, found, 'throwaway-build');
      try {
        // A tail that ends where no layer is taken (an \echo, a transaction left open) gets one here if it can.
        const cached = await lookup(deps, run, [tail.finalKey]);
        if (cached.index !== 0) {
          if (transactionStatus(state.connection.learner) !== 'I') {
            throw new SqlRunnerError(
              'SQL_RUNNER_THROWAWAY_STATE_OPEN',
              'The chain ends inside a transaction block: its state cannot be cloned. End the transaction in the chain.',
            );
          }
          await takeLayer(deps, run, state.instance, {
            key: tail.finalKey,
            parentKey: null,
            stepCount: tail.steps.length,
            buildMs: Math.round(performance.now() - started),
          });
        }
      } finally {
        await deps.connections.drop(builder.id);
        // A delete that fails leaves the builder to env-manager's throwaway TTL.
        await deps.envManager.delete(state.instance.id, request.requestId).catch(() => {});
      }
      return answer('built', state.stepsReplayed);
    });
  });
}

/** 'I' idle, 'T' in a transaction block, 'E' in a failed one. */
function transactionStatus(client: unknown): string | null {
  return (client as { getTransactionStatus(): string | null }).getTransactionStatus();
}

/**
 * A layer of the session's current state, or undefined when the session has
 * no instance (the caller then uses the tail's state). The session must be
 * `ownerId`'s (else 404). Its key's layer when cached; else a private layer
 * of the running instance (CHECKPOINT, frozen while the snapshot is taken,
 * as runs take layers): under a key of its own that no chain can have, so
 * nothing a run looks up can ever be served from it, and deleted by
 * `dispose`. The learner's instance goes on as it was; what it shows is the
 * committed state (a transaction the learner holds open is not in it).
 */
export async function layerOfSession(
  deps: RunnerDeps,
  request: { ownerId: string; sessionId: string; requestId: string },
): Promise<ThrowawayState | undefined> {
  const started = performance.now();
  const session = await selectSession(deps.pool, request.sessionId);
  if (!session || session.ownerId !== request.ownerId) {
    throw new NotFoundError('SQL_RUNNER_SESSION_NOT_FOUND', 'No such session.');
  }
  if (!session.instanceId) return undefined;
  const stateKey = session.currentKey;
  if (stateKey) {
    const found = await deps.snapshotCache.lookup([stateKey], request.requestId);
    if (found.index === 0) {
      const prepareMs = Math.round(performance.now() - started);
      return { layerKey: stateKey, stateKey, source: 'layer', stepsReplayed: 0, prepareMs, dispose: nothingToDispose };
    }
  }
  const { atomicSnapshot } = await deps.snapshotCache.driverInfo(request.requestId);
  if (!atomicSnapshot) {
    throw new SqlRunnerError(
      'SQL_RUNNER_THROWAWAY_SESSION_UNAVAILABLE',
      "The session's current state has no cached layer, and this storage driver would have to stop the learner's instance to take one; run from a tail instead.",
    );
  }
  let instance: Awaited<ReturnType<RunnerDeps['envManager']['resume']>>;
  try {
    // A suspended instance is started again (its data as it was); one that is gone has no state to give.
    instance = await deps.envManager.resume(session.instanceId, request.requestId);
  } catch {
    return undefined;
  }
  const layerKey = createHash('sha256').update(`taidon-throwaway-session-snapshot:${randomUUID()}`).digest('hex');
  await deps.envManager.snapshot(
    instance.id,
    { key: layerKey, parentKey: null, stepCount: 0, buildMs: 0 },
    request.requestId,
  );
  return {
    layerKey,
    stateKey,
    source: 'session-snapshot',
    stepsReplayed: 0,
    prepareMs: Math.round(performance.now() - started),
    // Once the clone is deleted; a layer left behind (a refused delete) is unpinned and unused: eviction takes it.
    dispose: () => deps.snapshotCache.deleteLayer(layerKey, request.requestId).catch(() => {}),
  };
}
