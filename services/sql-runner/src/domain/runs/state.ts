import { DomainError } from '@taidon/kit';
import type { InstanceInfo } from '../../clients/env-manager.js';
import type { Chain, Step } from '../chain/index.js';
import type { SessionConnection } from './connections.js';
import { RunCancelled, type RunnerDeps, type RunState } from './context.js';
import { guardDiskUse, statementErrorEvent } from './disk-guard.js';
import { isServerError } from './errors.js';
import { executeStep } from './execute.js';
import { fromPreparedConnection, ownerOf } from './from-pool.js';

/** An instance at the state a run starts from, with the learner's connection open on it. */
export interface PreparedState {
  instance: InstanceInfo;
  connection: SessionConnection;
  /** Key of the state the instance is at; null when unknown (after an error inside a transaction block). */
  key: string | null;
}

/** A replayed tail step failed: the tail itself is wrong, the run cannot start. */
export class ReplayFailed extends Error {
  constructor(readonly sqlstate: string) {
    super('replay failed');
    this.name = 'ReplayFailed';
  }
}

const now = () => performance.now();

/** Points after which a layer is worth taking: script boundaries, the end of the tail, and long replays. */
function isLayerPoint(steps: Step[], index: number, sinceLastLayerMs: number, layerEveryMs: number): boolean {
  const step = steps[index];
  if (!step || step.opensTransaction || step.kind === 'Echo') return false;
  const next = steps[index + 1];
  return next === undefined || next.path !== step.path || sinceLastLayerMs >= layerEveryMs;
}

async function takeLayer(
  deps: RunnerDeps,
  run: RunState,
  instance: InstanceInfo,
  key: string,
  parentKey: string | null,
  stepCount: number,
  buildMs: number,
): Promise<InstanceInfo> {
  const result = await deps.envManager.snapshot(instance.id, { key, parentKey, stepCount, buildMs }, run.requestId);
  deps.knownLayers?.add(key);
  // The answer describes the instance without credentials; only where it listens may have changed.
  return { ...instance, host: result.instance.host ?? instance.host, port: result.instance.port ?? instance.port };
}

/** A fresh instance at the deepest cached state of the tail's key path; builds K0 from the template when nothing is cached. */
/** A chain's key path: the base state, then the state after each step. */
const keyPath = (tail: Chain): string[] => [tail.baseKey, ...tail.steps.map((s) => s.key)];

async function restore(
  deps: RunnerDeps,
  run: RunState,
  session: SessionView,
  tail: Chain,
  known?: { key: string | null; index: number },
): Promise<{ instance: InstanceInfo; index: number }> {
  const started = now();
  run.phase = 'restore';
  run.emit({ type: 'progress', phase: 'restore' });
  const path = keyPath(tail);
  const found = known ?? (await lookup(deps, run, path));
  deps.metrics?.cacheLookups.inc({
    result: found.key === null ? 'miss' : found.index === path.length - 1 ? 'hit' : 'partial',
  });
  if (found.key !== null) deps.metrics?.cacheHitDepth.observe(found.index);
  let instance: InstanceInfo;
  let index: number;
  if (found.key === null) {
    instance = await deps.envManager.create({ ...ownerOf(session), layerKey: null }, run.requestId);
    instance = await takeLayer(deps, run, instance, tail.baseKey, null, 0, Math.round(now() - started));
    index = -1;
    run.layerKey = null;
  } else {
    instance = await deps.envManager.create({ ...ownerOf(session), layerKey: found.key }, run.requestId);
    index = found.index - 1;
    run.layerKey = found.key;
  }
  run.source = instance.source === 'resume' ? 'session' : instance.source;
  run.warmPool = instance.source === 'pool';
  run.timings.restoreMs = Math.round(now() - started);
  return { instance, index };
}

/** Replays tail steps after `fromIndex` on the instance, taking layers at snapshotable points. */
async function replay(
  deps: RunnerDeps,
  run: RunState,
  sessionId: string,
  state: PreparedState,
  tail: Chain,
  fromIndex: number,
): Promise<void> {
  const { atomicSnapshot } = await deps.snapshotCache.driverInfo(run.requestId);
  const steps = tail.steps;
  const started = now();
  let lastLayerAt = now();
  let lastLayerKey = fromIndex < 0 ? tail.baseKey : (steps[fromIndex]?.key ?? tail.baseKey);
  run.phase = 'replay';
  for (let i = fromIndex + 1; i < steps.length; i++) {
    const step = steps[i] as Step;
    if (run.cancelled) throw new RunCancelled();
    run.emit({ type: 'progress', phase: 'replay', step: i + 1, of: steps.length });
    run.cancelInFlight = () => state.connection.cancel();
    const guard = setTimeout(() => void state.connection.cancel().catch(() => {}), deps.statementTimeoutMs);
    const disk = guardDiskUse(state.connection, deps.databaseMaxBytes, step.kind);
    try {
      await executeStep(state.connection.learner, step, i, () => {}, deps.limits, state.connection.types);
    } catch (error) {
      if (run.cancelled) throw new RunCancelled();
      if (!isServerError(error)) throw error;
      const event = statementErrorEvent(error, step, 'replay', i, disk);
      run.emit(event);
      throw new ReplayFailed(event.sqlstate);
    } finally {
      disk.stop();
      clearTimeout(guard);
      run.cancelInFlight = undefined;
    }
    run.stepsReplayed++;
    deps.metrics?.replaySteps.inc();
    if (isLayerPoint(steps, i, now() - lastLayerAt, deps.layerEveryMs)) {
      state.instance = await takeLayer(
        deps,
        run,
        state.instance,
        step.key,
        lastLayerKey,
        i + 1,
        Math.round(now() - lastLayerAt),
      );
      // A snapshot that had to stop the server (copy driver) closed the connections.
      if (!atomicSnapshot) {
        await deps.connections.drop(sessionId);
        state.connection = await deps.connections.open(sessionId, state.instance);
      }
      lastLayerKey = step.key;
      lastLayerAt = now();
    }
  }
  run.timings.replayMs = Math.round(now() - started);
}

/** The session as a run sees it. */
export interface SessionView {
  id: string;
  ownerId: string;
  /** The owner's role as the gateway vouched for it (env-manager gives anonymous owners an idle TTL). */
  ownerRole?: string;
  instanceId: string | null;
  currentKey: string | null;
}

/**
 * The session's own instance, resumed if suspended and connected, when it is
 * at `key` (`'any'`: whatever state it is in, for a head that continues it);
 * undefined otherwise.
 */
export async function reuseSessionInstance(
  deps: RunnerDeps,
  run: RunState,
  session: SessionView,
  key: string | 'any',
): Promise<PreparedState | undefined> {
  if (!session.instanceId || (key !== 'any' && session.currentKey !== key)) return undefined;
  const current = session.currentKey;
  run.source = 'session';
  const open = deps.connections.get(session.id, session.instanceId);
  if (open) return { instance: open.instance, connection: open, key: current };
  try {
    const ready = await deps.envManager.resume(session.instanceId, run.requestId);
    const connection = await deps.connections.open(session.id, ready);
    return { instance: ready, connection, key: current };
  } catch {
    return undefined; // gone or broken: the caller restores, like any other miss
  }
}

/**
 * A new instance at the state `tail` defines: the deepest cached layer on
 * its key path plus a replay of the rest. Runs needing the same missing
 * state build it once (a lock per key); the ones that waited then find it
 * cached and only clone it.
 */
export async function buildState(
  deps: RunnerDeps,
  run: RunState,
  session: SessionView,
  tail: Chain,
): Promise<PreparedState> {
  const build = async (known?: { key: string | null; index: number }) => {
    const { instance, index } = await restore(deps, run, session, tail, known);
    try {
      const connection = await deps.connections.open(session.id, instance);
      const state = { instance, connection, key: tail.finalKey };
      await replay(deps, run, session.id, state, tail, index);
      return state;
    } catch (error) {
      await deps.connections.drop(session.id);
      await deps.envManager.delete(instance.id, run.requestId).catch(() => {});
      throw error;
    }
  };
  const prepared = await fromPreparedConnection(deps, run, session, tail);
  if (prepared) return prepared;
  const path = keyPath(tail);
  if (deps.knownLayers?.has(tail.finalKey)) {
    try {
      return await build({ key: tail.finalKey, index: path.length - 1 });
    } catch (error) {
      // Evicted since it was seen: look it up like any other key.
      if (!(error instanceof DomainError && error.code === LAYER_NOT_FOUND)) throw error;
      deps.knownLayers.forget(tail.finalKey);
    }
  }
  // A cached state needs no lock: clones of one layer proceed in parallel. Only a build takes the key's lock,
  // and looks again once it holds it, since the run it waited for may have cached the state meanwhile.
  const found = await lookup(deps, run, path);
  if (found.index === path.length - 1) return build(found);
  return deps.locks.withLock(tail.finalKey, () => build());
}

/** env-manager's code for a clone of a layer snapshot-cache does not have. */
const LAYER_NOT_FOUND = 'ENV_MANAGER_LAYER_NOT_FOUND';

/** The deepest cached state on the key path, asking snapshot-cache; every cached key is remembered. */
async function lookup(deps: RunnerDeps, run: RunState, path: string[]): Promise<{ key: string | null; index: number }> {
  const found = await deps.snapshotCache.lookup(path, run.requestId);
  for (const index of found.cached) {
    const key = path[index];
    if (key !== undefined) deps.knownLayers?.add(key);
  }
  return found;
}
