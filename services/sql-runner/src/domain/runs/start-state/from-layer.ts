import { type Replaying, replayTail } from './replay.js';
import { beginRestore, countRestore, factsOf, keyPath, ownerOf, takeLayer } from './restore.js';
import type { StartState } from './start-state.js';
import { StartAborted, type StartRequest } from './strategy.js';

/**
 * A new instance on layer `found.key` (at `found.index` on the tail's key
 * path), or on a fresh template when `found.key` is null (its K0 layer taken
 * at once), then the rest of the tail replayed. env-manager serves a layer
 * from its warm pool when it has one started at that key, else clones it.
 * An instance that does not reach the state is deleted.
 */
export async function fromLayer(
  request: StartRequest,
  found: { key: string | null; index: number },
  strategy: string,
): Promise<StartState> {
  const { deps, run, session, tail } = request;
  const started = beginRestore(run);
  countRestore(deps, keyPath(tail), found.key === null ? -1 : found.index);
  const instance = await deps.envManager.create({ ...ownerOf(session), layerKey: found.key }, run.requestId);
  let facts = factsOf(instance, found.key, started);
  let ready: Replaying;
  try {
    let current = instance;
    if (found.key === null) {
      const buildMs = Math.round(performance.now() - started);
      current = await takeLayer(deps, run, instance, { key: tail.baseKey, parentKey: null, stepCount: 0, buildMs });
      facts = factsOf(instance, null, started);
    }
    ready = { instance: current, connection: await deps.connections.open(session.id, current) };
    await replayTail(request, ready, found.key === null ? -1 : found.index - 1, facts);
  } catch (error) {
    await deps.connections.drop(session.id);
    await deps.envManager.delete(instance.id, run.requestId).catch(() => {}); // the error that stopped it is what counts
    throw new StartAborted(facts, error);
  }
  return { ...facts, strategy, ...ready, key: tail.finalKey };
}
