import { type Replaying, replayTail } from './replay.js';
import { beginRestore, countRestore, factsOf, keyPath, ownerOf, takeLayer } from './restore.js';
import type { StartState } from './start-state.js';
import { StartAborted, type StartRequest } from './strategy.js';

/** Keys of a chain env-manager places by at most (its contract's bound on `layerKeys`). */
export const PLACEMENT_KEYS_MAX = 64;

/**
 * The keys sent with a create, base first, deepest last: from the layer found on (so a chain longer than the
 * bound still names it), else the deepest ones. On a cluster env-manager places the instance on the node whose
 * agent holds the deepest of them, which may be deeper or shallower than the one found here.
 */
export function placementKeys(path: readonly string[], foundIndex: number): string[] {
  const start =
    foundIndex >= 0 ? Math.min(foundIndex, path.length - PLACEMENT_KEYS_MAX) : path.length - PLACEMENT_KEYS_MAX;
  const from = Math.max(0, start);
  return path.slice(from, from + PLACEMENT_KEYS_MAX);
}

/**
 * A new instance on layer `found.key` (at `found.index` on the tail's key
 * path), or on a fresh template when `found.key` is null (its K0 layer taken
 * at once), then the rest of the tail replayed. env-manager serves a layer
 * from its warm pool when it has one started at that key, else clones it; on
 * a cluster it clones the deepest key of the path the chosen node's agent
 * holds, so the replay starts from the layer the answer names (none: a fresh
 * template there). An instance that does not reach the state is deleted.
 */
export async function fromLayer(
  request: StartRequest,
  found: { key: string | null; index: number },
  strategy: string,
): Promise<StartState> {
  const { deps, run, session, tail } = request;
  const started = beginRestore(run);
  const path = keyPath(tail);
  const instance = await deps.envManager.create(
    { ...ownerOf(session), layerKey: found.key, layerKeys: placementKeys(path, found.index) },
    run.requestId,
  );
  const at = answeredLayer(path, found, instance.layerKey);
  countRestore(deps, path, at.index);
  let facts = factsOf(instance, at.key, started);
  let ready: Replaying;
  try {
    let current = instance;
    if (at.key === null) {
      const buildMs = Math.round(performance.now() - started);
      current = await takeLayer(deps, run, instance, { key: tail.baseKey, parentKey: null, stepCount: 0, buildMs });
      facts = factsOf(instance, null, started);
    }
    ready = { instance: current, connection: await deps.connections.open(session.id, current) };
    await replayTail(request, ready, at.key === null ? -1 : at.index - 1, facts);
  } catch (error) {
    await deps.connections.drop(session.id);
    await deps.envManager.delete(instance.id, run.requestId).catch(() => {}); // the error that stopped it is what counts
    throw new StartAborted(facts, error);
  }
  return { ...facts, strategy, ...ready, key: tail.finalKey };
}

/** Where the instance env-manager answered starts on the key path: its layer (the one asked for, when it does not say). */
function answeredLayer(
  path: readonly string[],
  found: { key: string | null; index: number },
  answered: string | null | undefined,
): { key: string | null; index: number } {
  if (answered === undefined || answered === found.key) return found;
  if (answered === null) return { key: null, index: -1 };
  const index = path.lastIndexOf(answered);
  return index >= 0 ? { key: answered, index } : found;
}
