import type pg from 'pg';
import type { InstanceInfo } from '../../../clients/env-manager.js';
import type { Chain } from '../../chain/index.js';
import type { SessionConnection } from '../connections.js';
import type { RunnerDeps, RunState } from '../context.js';
import type { StartFacts } from './start-state.js';
import type { SessionView, StartRequest } from './strategy.js';

/** env-manager's code for a clone of a layer snapshot-cache does not have (any more). */
export const LAYER_NOT_FOUND = 'ENV_MANAGER_LAYER_NOT_FOUND';

/** Who a new instance is for, as env-manager records it. */
export const ownerOf = (session: SessionView) => ({
  ownerId: session.ownerId,
  sessionId: session.id,
  ...(session.ownerRole ? { ownerRole: session.ownerRole } : {}),
});

/** A chain's key path: the base state, then the state after each step. */
export const keyPath = (tail: Chain): string[] => [tail.baseKey, ...tail.steps.map((s) => s.key)];

/** The run enters its restore phase; the learner sees it. */
export function beginRestore(run: RunState): number {
  run.phase = 'restore';
  run.emit({ type: 'progress', phase: 'restore' });
  return performance.now();
}

/** Counts a restore by how much of the tail its layer covered (`index` on the key path, -1: none). */
export function countRestore(deps: RunnerDeps, path: string[], index: number): void {
  deps.metrics?.cacheLookups.inc({ result: index < 0 ? 'miss' : index === path.length - 1 ? 'hit' : 'partial' });
  if (index >= 0) deps.metrics?.cacheHitDepth.observe(index);
}

/** The deepest cached state on the key path, asking snapshot-cache; every cached key is remembered. */
export async function lookup(
  deps: RunnerDeps,
  run: RunState,
  path: string[],
): Promise<{ key: string | null; index: number }> {
  const found = await deps.snapshotCache.lookup(path, run.requestId);
  for (const index of found.cached) {
    const key = path[index];
    if (key !== undefined) deps.knownLayers?.add(key);
  }
  return found;
}

/** Commits the instance's state as layer `key`; answers the instance as it is after (a copy-driver snapshot moves it). */
export async function takeLayer(
  deps: RunnerDeps,
  run: RunState,
  instance: InstanceInfo,
  layer: { key: string; parentKey: string | null; stepCount: number; buildMs: number },
): Promise<InstanceInfo> {
  const result = await deps.envManager.snapshot(instance.id, layer, run.requestId);
  deps.knownLayers?.add(layer.key);
  // The answer describes the instance without credentials; only where it listens may have changed.
  return { ...instance, host: result.instance.host ?? instance.host, port: result.instance.port ?? instance.port };
}

/**
 * The facts of a new instance env-manager handed out for layer `layerKey`
 * (null: a fresh template): from its warm pool when it had one started at
 * that key, else a clone. Which of the two is env-manager's choice.
 */
export function factsOf(instance: InstanceInfo, layerKey: string | null, restoreStartedAt: number): StartFacts {
  return {
    source: instance.source === 'resume' ? 'session' : instance.source,
    warmPool: instance.source === 'pool',
    layerKey,
    stepsReplayed: 0,
    timings: { restoreMs: Math.round(performance.now() - restoreStartedAt), replayMs: 0 },
  };
}

/** The session's connection to a new instance; an instance it cannot connect to is deleted, not left running. */
export async function connectNew(
  request: StartRequest,
  instance: InstanceInfo,
  prepared?: pg.Client,
): Promise<SessionConnection> {
  const { deps, run, session } = request;
  try {
    return await deps.connections.open(session.id, instance, prepared);
  } catch (error) {
    await deps.envManager.delete(instance.id, run.requestId).catch(() => {}); // the failure to connect is what counts
    throw error;
  }
}
